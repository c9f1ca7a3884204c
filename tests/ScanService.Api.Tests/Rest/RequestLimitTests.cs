
namespace ScanService.Api.Tests.Rest;

/// <summary>The app with small request limits, so that a test can pass them.</summary>
public sealed class SmallLimitsFactory : ScanApiFactory
{
    public const int SingleBytes = 2048;
    public const int BatchBytes = 8192;
    public const int MaxImages = 3;

    public SmallLimitsFactory()
    {
        With("Limits:MaxRequestBodyBytes", SingleBytes.ToString());
        With("Limits:MaxBatchRequestBodyBytes", BatchBytes.ToString());
        With("Limits:MaxBatchImages", MaxImages.ToString());
    }
}

/// <summary>Bodies past the configured limits are 413 (TestServer: the limit is counted while the body is read).</summary>
public class RequestLimitTests(SmallLimitsFactory factory) : IClassFixture<SmallLimitsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static byte[] PngPaddedTo(int size)
    {
        // A valid PNG followed by junk: only its length matters here.
        var png = FashionMnistImages.Png(0);
        var padded = new byte[size];
        png.CopyTo(padded, 0);
        return padded;
    }

    [Fact]
    public async Task An_image_under_the_limit_is_classified()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw(FashionMnistImages.Png(0), "image/png"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_image_body_past_the_limit_is_413()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw(PngPaddedTo(SmallLimitsFactory.SingleBytes + 1), "image/png"));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_multipart_image_past_the_limit_is_413()
    {
        using var response = await _client.PostAsync("/v1/classify", Form(("image", "big.png", PngPaddedTo(SmallLimitsFactory.SingleBytes * 2))));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_batch_body_past_its_limit_is_413()
    {
        using var response = await _client.PostAsync("/v1/classify/batch",
            Form(("images", "a.png", PngPaddedTo(5000)), ("images", "b.png", PngPaddedTo(5000))));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_batch_of_more_images_than_allowed_is_413()
    {
        using var response = await _client.PostAsync("/v1/classify/batch",
            Form(Enumerable.Range(0, SmallLimitsFactory.MaxImages + 1).Select(i => ("images", $"{i}.png", FashionMnistImages.Png(i))).ToArray()));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_inference_request_past_the_limit_is_a_413_protocol_error()
    {
        var model = factory.Model();
        using var response = await _client.PostAsync($"/v2/models/{model.Name}/infer",
            JsonContent.Create(Fp32Request(model.Preprocess(FashionMnistImages.Png(0)), 1)));
        await AssertProtocolErrorAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_inference_request_with_more_rows_than_allowed_is_a_413_protocol_error()
    {
        var model = factory.Model();
        var images = Enumerable.Range(0, SmallLimitsFactory.MaxImages + 1).Select(_ => "AAAA").ToArray();
        using var response = await _client.PostAsync($"/v2/models/{model.Name}/infer",
            JsonContent.Create(new { inputs = new[] { new { name = "image", datatype = "BYTES", shape = new[] { images.Length }, data = images } } }));
        await AssertProtocolErrorAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }
}
