
namespace ScanService.Api.Tests.Rest;

/// <summary>Every refusal of POST /v1/classify is an RFC 7807 problem with the right status and nothing internal.</summary>
public class ClassifyErrorTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Data_that_is_no_image_is_400_unsupported_format()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw("%PDF-1.7 not an image"u8.ToArray(), "image/png"));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("unsupportedFormat", problem.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_truncated_image_is_400_corrupt()
    {
        var png = FashionMnistImages.Png(0);
        using var response = await _client.PostAsync("/v1/classify", Raw(png[..(png.Length / 2)], "image/png"));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("corrupt", problem.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_empty_body_is_400_empty()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw([], "image/png"));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("empty", problem.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_image_whose_header_declares_more_pixels_than_allowed_is_400_before_decoding()
    {
        // 100000 x 100000 declared, far past Model:MaxImagePixels; the pixel data is still 28x28.
        using var response = await _client.PostAsync("/v1/classify", Raw(FashionMnistImages.PngDeclaring(0, 100_000, 100_000), "image/png"));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("tooManyPixels", problem.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("?operatingPoint=warp-speed")]
    [InlineData("?maxExit=0")]
    [InlineData("?maxExit=5")]
    [InlineData("?maxExit=-1")]
    [InlineData("?fullDepth=true&ensemble=true")]
    [InlineData("?topK=0")]
    [InlineData("?maxExit=deep")]
    [InlineData("?fullDepth=maybe")]
    [InlineData("?topK=many")]
    public async Task Options_that_do_not_fit_the_model_or_do_not_parse_are_400(string query)
    {
        using var response = await _client.PostAsync("/v1/classify" + query, Raw(FashionMnistImages.Png(0), "image/png"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("image/tiff")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task An_unsupported_content_type_is_415(string contentType)
    {
        using var response = await _client.PostAsync("/v1/classify", Raw(FashionMnistImages.Png(0), contentType));
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_body_without_content_type_is_415()
    {
        using var content = new ByteArrayContent(FashionMnistImages.Png(0));
        using var response = await _client.PostAsync("/v1/classify", content);
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_multipart_body_without_the_image_field_is_400()
    {
        using var response = await _client.PostAsync("/v1/classify", Form(("picture", "0.png", FashionMnistImages.Png(0))));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("'image'", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_multipart_body_without_a_boundary_is_400()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw("--x\r\n\r\n"u8.ToArray(), "multipart/form-data"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_unknown_v1_route_is_a_404_problem()
    {
        using var response = await _client.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("GET", "/v1/classify")]
    [InlineData("PUT", "/v1/classify")]
    [InlineData("GET", "/v1/classify/batch")]
    [InlineData("DELETE", "/v1/model")]
    [InlineData("GET", "/v2/models/fashion-mnist/infer")]
    [InlineData("PUT", "/v2/health/ready")]
    public async Task A_wrong_method_is_a_405_naming_the_allowed_one_in_each_protocols_error_shape(string method, string path)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.NotEmpty(response.Content.Headers.Allow);
        Assert.DoesNotContain(method, response.Content.Headers.Allow);
        if (path.StartsWith("/v1/", StringComparison.Ordinal))
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        else
            Assert.Equal("Method Not Allowed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}
