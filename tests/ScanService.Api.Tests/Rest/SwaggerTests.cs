
namespace ScanService.Api.Tests.Rest;

/// <summary>The OpenAPI document describes every route, its request and its answers, errors included; Swagger UI is served.</summary>
public class SwaggerTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonElement> DocumentAsync() =>
        await OkJsonAsync<JsonElement>(await _client.GetAsync("/swagger/scanservice/swagger.json"));

    [Theory]
    [InlineData("/v1/classify", "post", new[] { "200", "400", "413", "415", "429", "503" })]
    [InlineData("/v1/classify/batch", "post", new[] { "200", "400", "413", "415", "429", "503" })]
    [InlineData("/v1/model", "get", new[] { "200", "503" })]
    [InlineData("/v2", "get", new[] { "200" })]
    [InlineData("/v2/health/live", "get", new[] { "200" })]
    [InlineData("/v2/health/ready", "get", new[] { "200", "503" })]
    [InlineData("/v2/models/{name}", "get", new[] { "200", "404", "503" })]
    [InlineData("/v2/models/{name}/versions/{version}", "get", new[] { "200", "404", "503" })]
    [InlineData("/v2/models/{name}/ready", "get", new[] { "200", "404", "503" })]
    [InlineData("/v2/models/{name}/versions/{version}/ready", "get", new[] { "200", "404", "503" })]
    [InlineData("/v2/models/{name}/infer", "post", new[] { "200", "400", "404", "413", "415", "429", "503" })]
    [InlineData("/v2/models/{name}/versions/{version}/infer", "post", new[] { "200", "400", "404", "413", "415", "429", "503" })]
    public async Task Every_route_is_documented_with_a_summary_and_its_answers(string path, string method, string[] statuses)
    {
        var operation = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty(method);
        Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()));
        var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
        Assert.All(statuses, status => Assert.Contains(status, responses));
    }

    [Fact]
    public async Task The_image_endpoint_documents_raw_image_bodies_and_the_multipart_field()
    {
        var body = (await DocumentAsync()).GetProperty("paths").GetProperty("/v1/classify").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        foreach (var type in new[] { "image/png", "image/jpeg", "image/bmp", "image/webp", "image/gif", "application/octet-stream" })
            Assert.Equal("binary", body.GetProperty(type).GetProperty("schema").GetProperty("format").GetString());
        Assert.True(body.GetProperty("multipart/form-data").GetProperty("schema").GetProperty("properties").TryGetProperty("image", out _));
    }

    [Fact]
    public async Task Query_options_are_documented_parameters()
    {
        var parameters = (await DocumentAsync()).GetProperty("paths").GetProperty("/v1/classify").GetProperty("post").GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        foreach (var name in new[] { "operatingPoint", "maxExit", "fullDepth", "ensemble", "topK" })
        {
            Assert.Equal("query", parameters[name].GetProperty("in").GetString());
            Assert.False(string.IsNullOrWhiteSpace(parameters[name].GetProperty("description").GetString()));
        }
    }

    [Fact]
    public async Task Swagger_UI_is_served()
    {
        using var response = await _client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
