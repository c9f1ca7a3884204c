using System.Text;

namespace ScanService.Api.Tests.Rest;

/// <summary>Every refusal under /v2 is the protocol's <c>{"error": "..."}</c> with the right status and nothing internal.</summary>
public class InferenceProtocolErrorTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private string InferPath => $"/v2/models/{factory.Model().Name}/infer";

    private float[] Sample() => factory.Model().Preprocess(FashionMnistImages.Png(0));

    private static object Input(string name, string datatype, long[] shape, object data, object? parameters = null) =>
        new { parameters, inputs = new[] { new { name, datatype, shape, data } } };

    private async Task<string> InferErrorAsync(object request, HttpStatusCode status)
    {
        using var response = await _client.PostAsync(InferPath, JsonContent.Create(request));
        return await AssertProtocolErrorAsync(response, status);
    }

    [Theory]
    [InlineData("/v2/models/no-such-model")]
    [InlineData("/v2/models/no-such-model/ready")]
    public async Task An_unknown_model_name_is_404(string path)
    {
        using var response = await _client.GetAsync(path);
        Assert.Contains("no-such-model", await AssertProtocolErrorAsync(response, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task Inference_on_an_unknown_model_is_404()
    {
        using var response = await _client.PostAsync("/v2/models/no-such-model/infer", JsonContent.Create(Fp32Request(Sample(), 1)));
        await AssertProtocolErrorAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_unknown_model_version_is_404()
    {
        using var response = await _client.PostAsync($"/v2/models/{factory.Model().Name}/versions/9.9.9/infer", JsonContent.Create(Fp32Request(Sample(), 1)));
        Assert.Contains("9.9.9", await AssertProtocolErrorAsync(response, HttpStatusCode.NotFound));
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 27, 28 })]
    [InlineData(new long[] { 1, 3, 28, 28 })]
    [InlineData(new long[] { 784 })]
    [InlineData(new long[] { 0, 1, 28, 28 })]
    [InlineData(new long[] { 1, 28, 28 })]
    public async Task A_tensor_shape_that_is_not_N_1_28_28_is_400(long[] shape)
    {
        var message = await InferErrorAsync(Input("input", "FP32", shape, Sample()), HttpStatusCode.BadRequest);
        Assert.Contains("shape", message);
    }

    [Theory]
    [InlineData("INT64")]
    [InlineData("FP64")]
    [InlineData("BYTES")]
    public async Task A_tensor_datatype_other_than_FP32_is_400(string datatype)
    {
        var message = await InferErrorAsync(Input("input", datatype, [1, 1, 28, 28], Sample()), HttpStatusCode.BadRequest);
        Assert.Contains("datatype", message);
    }

    [Fact]
    public async Task An_element_count_that_does_not_match_the_shape_is_400()
    {
        var message = await InferErrorAsync(Input("input", "FP32", [2, 1, 28, 28], Sample()), HttpStatusCode.BadRequest);
        Assert.Contains("784", message);
    }

    [Fact]
    public async Task Nested_data_that_does_not_follow_the_shape_is_400()
    {
        var rows = Enumerable.Range(0, 28).Select(_ => new float[28]).ToArray();
        await InferErrorAsync(Input("input", "FP32", [1, 1, 28, 28], new[] { rows }), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"-Infinity\"")]
    [InlineData("1e39")]
    [InlineData("-1e400")]
    [InlineData("\"0.5\"")]
    [InlineData("true")]
    public async Task NaN_infinite_out_of_range_or_non_numeric_elements_are_400(string element)
    {
        var data = string.Join(",", Enumerable.Repeat("0.25", 783).Prepend(element));
        var json = $$"""{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,28,28],"data":[{{data}}]}]}""";
        using var response = await _client.PostAsync(InferPath, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Contains("element 0", await AssertProtocolErrorAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task An_unknown_operating_point_is_400()
    {
        var message = await InferErrorAsync(Input("input", "FP32", [1, 1, 28, 28], Sample(), new { operating_point = "warp-speed" }), HttpStatusCode.BadRequest);
        Assert.Contains("warp-speed", message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public async Task Max_exit_out_of_range_is_400(int maxExit)
    {
        await InferErrorAsync(Input("input", "FP32", [1, 1, 28, 28], Sample(), new { max_exit = maxExit }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_parameter_of_the_wrong_type_is_400()
    {
        var message = await InferErrorAsync(Input("input", "FP32", [1, 1, 28, 28], Sample(), new { full_depth = "yes" }), HttpStatusCode.BadRequest);
        Assert.Contains("full_depth", message);
    }

    [Theory]
    [InlineData("{\"inputs\": [")]
    [InlineData("not json")]
    [InlineData("{\"inputs\": {\"name\": \"input\"}}")]
    [InlineData("null")]
    [InlineData("{}")]
    public async Task Malformed_or_incomplete_JSON_is_400(string body)
    {
        using var response = await _client.PostAsync(InferPath, new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertProtocolErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task A_body_that_is_not_JSON_by_content_type_is_415(string contentType)
    {
        using var response = await _client.PostAsync(InferPath, new StringContent("{}", Encoding.UTF8, contentType));
        await AssertProtocolErrorAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_unknown_input_name_is_400()
    {
        var message = await InferErrorAsync(Input("pixels", "FP32", [1, 1, 28, 28], Sample()), HttpStatusCode.BadRequest);
        Assert.Contains("pixels", message);
    }

    [Fact]
    public async Task An_unknown_requested_output_is_400()
    {
        var request = new
        {
            inputs = new[] { new { name = "input", datatype = "FP32", shape = new[] { 1, 1, 28, 28 }, data = Sample() } },
            outputs = new[] { new { name = "logits" } },
        };
        Assert.Contains("logits", await InferErrorAsync(request, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task A_bytes_element_that_is_not_base64_is_400()
    {
        await InferErrorAsync(Input("image", "BYTES", [1], new[] { "%%% not base64 %%%" }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_undecodable_image_in_bytes_is_400_naming_its_element()
    {
        var data = new[] { Convert.ToBase64String(FashionMnistImages.Png(0)), Convert.ToBase64String("GIF89a garbage"u8.ToArray()) };
        var message = await InferErrorAsync(Input("image", "BYTES", [2], data), HttpStatusCode.BadRequest);
        Assert.Contains("element 1", message);
    }

    [Fact]
    public async Task An_unknown_v2_route_is_a_404_protocol_error()
    {
        using var response = await _client.GetAsync("/v2/repository/index");
        await AssertProtocolErrorAsync(response, HttpStatusCode.NotFound);
    }
}
