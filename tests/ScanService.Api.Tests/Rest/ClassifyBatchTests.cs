
namespace ScanService.Api.Tests.Rest;

/// <summary>POST /v1/classify/batch: several images in one multipart request, answered in order.</summary>
public class ClassifyBatchTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Batch_answers_equal_single_answers_in_the_order_of_the_parts()
    {
        var indices = new[] { 7, 0, 11, 3, 9 };
        var singles = new List<ClassifyResponse>();
        foreach (var i in indices) singles.Add(await _client.ClassifyAsync(FashionMnistImages.Png(i)));

        using var response = await _client.PostAsync("/v1/classify/batch",
            Form(indices.Select(i => (i % 2 == 0 ? "images" : "more", $"{i}.png", FashionMnistImages.Png(i))).ToArray()));
        var batch = await OkJsonAsync<BatchClassifyResponse>(response);

        Assert.Equal(indices.Length, batch.Results.Count);
        for (var k = 0; k < indices.Length; k++)
        {
            Assert.Equal((singles[k].ClassIndex, singles[k].Exit, singles[k].Label), (batch.Results[k].ClassIndex, batch.Results[k].Exit, batch.Results[k].Label));
            Assert.Equal(singles[k].Confidence, batch.Results[k].Confidence, 1e-5f);
        }
    }

    [Fact]
    public async Task Options_apply_to_every_image_of_the_batch()
    {
        using var response = await _client.PostAsync("/v1/classify/batch?fullDepth=true&topK=2",
            Form(Enumerable.Range(0, 4).Select(i => ("images", $"{i}.png", FashionMnistImages.Png(i))).ToArray()));
        var batch = await OkJsonAsync<BatchClassifyResponse>(response);
        Assert.All(batch.Results, r =>
        {
            Assert.Equal(r.ExitCount, r.Exit);
            Assert.Equal(ExitMode.FullDepth, r.Mode);
            Assert.Equal(2, r.TopK.Count);
        });
    }

    [Fact]
    public async Task A_bad_image_fails_the_batch_with_400_naming_its_index_field_and_file()
    {
        using var response = await _client.PostAsync("/v1/classify/batch", Form(
            ("images", "good.png", FashionMnistImages.Png(0)),
            ("images", "also-good.png", FashionMnistImages.Png(1)),
            ("images", "notes.png", "not an image at all"u8.ToArray())));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(2, problem.GetProperty("index").GetInt32());
        Assert.Equal("unsupportedFormat", problem.GetProperty("reason").GetString());
        var part = problem.GetProperty("part").GetString()!;
        Assert.Contains("images", part);
        Assert.Contains("notes.png", part);
        Assert.Contains("notes.png", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_batch_without_file_parts_is_400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "text" } };
        using var response = await _client.PostAsync("/v1/classify/batch", form);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_raw_image_body_to_the_batch_endpoint_is_415()
    {
        using var response = await _client.PostAsync("/v1/classify/batch", Raw(FashionMnistImages.Png(0), "image/png"));
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_unknown_operating_point_fails_the_batch_with_400()
    {
        using var response = await _client.PostAsync("/v1/classify/batch?operatingPoint=warp-speed", Form(("images", "0.png", FashionMnistImages.Png(0))));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("warp-speed", problem.GetProperty("detail").GetString());
    }
}
