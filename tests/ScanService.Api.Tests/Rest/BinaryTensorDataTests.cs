using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace ScanService.Api.Tests.Rest;

/// <summary>
/// The Open Inference Protocol's binary data extension as Triton-style clients use it, with requests built from the
/// wire format's description: the body is <c>Inference-Header-Content-Length</c> bytes of JSON, then each binary tensor
/// in input order (FP32 little-endian; BYTES as a 4-byte little-endian length and the bytes, per element); outputs
/// asked for as binary come back the same way after the JSON answer.
/// </summary>
public sealed class BinaryTensorDataTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private const string HeaderLength = "Inference-Header-Content-Length";
    private string Infer => $"/v2/models/{factory.Model().Name}/infer";

    /// <summary>A body of JSON and binary parts, sent as such clients send it: no content type unless one is given.</summary>
    private static HttpRequestMessage BinaryRequest(string path, JsonObject header, byte[] binary, string? contentType = null)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var content = new ByteArrayContent([.. json, .. binary]);
        if (contentType is not null) content.Headers.ContentType = new(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add(HeaderLength, $"{json.Length}");
        return request;
    }

    private static byte[] LittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>The JSON part and the binary part of an answer.</summary>
    private static async Task<(JsonNode Json, byte[] Binary)> SplitAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (!response.Headers.TryGetValues(HeaderLength, out var values)) return (JsonNode.Parse(body)!, []);
        var length = int.Parse(values.Single());
        return (JsonNode.Parse(body.AsSpan(0, length))!, body[length..]);
    }

    private static JsonObject Output(string name, bool binary) =>
        new() { ["name"] = name, ["parameters"] = new JsonObject { ["binary_data"] = binary } };

    [Fact]
    public async Task A_binary_FP32_input_answers_as_its_JSON_form_and_binary_outputs_follow_the_JSON_part()
    {
        var model = factory.Model();
        var pixels = FashionMnistTestSet.Pngs(2).SelectMany(model.Preprocess).ToArray();
        using var client = factory.CreateClient();
        var reference = await OkJsonAsync<JsonNode>(await client.PostAsync(Infer, Json(new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "input", ["shape"] = new JsonArray(2, 1, 28, 28), ["datatype"] = "FP32", ["data"] = new JsonArray(pixels.Select(p => (JsonNode)p).ToArray()) }),
        })));

        var binary = LittleEndian(pixels);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "input", ["shape"] = new JsonArray(2, 1, 28, 28), ["datatype"] = "FP32",
                ["parameters"] = new JsonObject { ["binary_data_size"] = binary.Length },
            }),
            ["outputs"] = new JsonArray(Output("class_index", true), Output("exit_index", false), Output("probabilities", true)),
        };
        using var response = await client.SendAsync(BinaryRequest(Infer, header, binary));
        var (json, rest) = await SplitAsync(response);

        // Outputs in the protocol's order; the binary part holds the binary ones in that order: probabilities (2 x 10
        // FP32), then class_index (2 x INT64).
        var outputs = json["outputs"]!.AsArray();
        Assert.Equal(["probabilities", "class_index", "exit_index"], outputs.Select(o => (string)o!["name"]!));
        Assert.Equal(80, (int)outputs[0]!["parameters"]!["binary_data_size"]!);
        Assert.Null(outputs[0]!["data"]);
        Assert.Equal(16, (int)outputs[1]!["parameters"]!["binary_data_size"]!);
        Assert.Equal(96, rest.Length);
        var expected = reference["outputs"]!.AsArray().ToDictionary(o => (string)o!["name"]!, o => o!["data"]!.AsArray());
        for (var k = 0; k < 20; k++)
            Assert.Equal((float)expected["probabilities"][k]!, BinaryPrimitives.ReadSingleLittleEndian(rest.AsSpan(4 * k)), 6);
        for (var i = 0; i < 2; i++)
            Assert.Equal((long)expected["class_index"][i]!, BinaryPrimitives.ReadInt64LittleEndian(rest.AsSpan(80 + 8 * i)));
        Assert.Equal(expected["exit_index"].Select(v => (long)v!), outputs[2]!["data"]!.AsArray().Select(v => (long)v!));
    }

    [Fact]
    public async Task Binary_BYTES_images_answer_as_base64_ones_and_binary_data_output_sends_every_output_in_binary()
    {
        var pngs = FashionMnistTestSet.Pngs(3);
        using var client = factory.CreateClient();
        var reference = await OkJsonAsync<JsonNode>(await client.PostAsync(Infer, Json(new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(3), ["datatype"] = "BYTES", ["data"] = new JsonArray(pngs.Select(p => (JsonNode)Convert.ToBase64String(p)).ToArray()) }),
            ["outputs"] = new JsonArray(Output("class_index", false)),
        })));

        var binary = pngs.SelectMany(p => BitConverter.GetBytes((uint)p.Length).Concat(p)).ToArray();
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image", ["shape"] = new JsonArray(3), ["datatype"] = "BYTES",
                ["parameters"] = new JsonObject { ["binary_data_size"] = binary.Length },
            }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "class_index" }),
            ["parameters"] = new JsonObject { ["binary_data_output"] = true },
        };
        using var response = await client.SendAsync(BinaryRequest(Infer, header, binary, "application/octet-stream"));
        var (json, rest) = await SplitAsync(response);

        Assert.Equal(24, rest.Length);
        var expected = reference["outputs"]![0]!["data"]!.AsArray().Select(v => (long)v!).ToList();
        Assert.Equal(expected, Enumerable.Range(0, 3).Select(i => BinaryPrimitives.ReadInt64LittleEndian(rest.AsSpan(8 * i))));
        Assert.Equal(24, (int)json["outputs"]![0]!["parameters"]!["binary_data_size"]!);
    }

    [Fact]
    public async Task A_JSON_request_without_a_content_type_is_read_as_JSON_and_the_answer_names_its_operating_point()
    {
        using var client = factory.CreateClient();
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(1), ["datatype"] = "BYTES", ["data"] = new JsonArray(Convert.ToBase64String(FashionMnistTestSet.Pngs(1)[0])) }),
            ["parameters"] = new JsonObject { ["operating_point"] = "fast" },
        };
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
        Assert.Null(content.Headers.ContentType);

        var answer = await OkJsonAsync<JsonNode>(await client.PostAsync(Infer, content));

        Assert.Equal("fast", (string)answer["parameters"]!["operating_point"]!);
    }

    [Theory]
    [InlineData("declared size too small")]
    [InlineData("header length past the body")]
    [InlineData("data and binary both")]
    [InlineData("binary part with no input declaring it")]
    [InlineData("header length not a number")]
    public async Task A_malformed_binary_request_is_400_and_says_why(string fault)
    {
        var png = FashionMnistTestSet.Pngs(1)[0];
        var binary = BitConverter.GetBytes((uint)png.Length).Concat(png).ToArray();
        var input = new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(1), ["datatype"] = "BYTES", ["parameters"] = new JsonObject { ["binary_data_size"] = binary.Length } };
        if (fault == "declared size too small") input["parameters"]!["binary_data_size"] = binary.Length - 1;
        if (fault == "data and binary both") input["data"] = new JsonArray(Convert.ToBase64String(png));
        if (fault == "binary part with no input declaring it") input.Remove("parameters");
        var request = BinaryRequest(Infer, new JsonObject { ["inputs"] = new JsonArray(input) }, binary);
        if (fault == "header length past the body")
        {
            request.Headers.Remove(HeaderLength);
            request.Headers.Add(HeaderLength, "100000");
        }
        if (fault == "header length not a number")
        {
            request.Headers.Remove(HeaderLength);
            request.Headers.Add(HeaderLength, "lots");
        }
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(request);

        var error = await AssertProtocolErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public async Task A_body_of_another_type_without_the_header_is_415()
    {
        using var client = factory.CreateClient();
        using var response = await client.PostAsync(Infer, Raw("{}"u8.ToArray(), "text/plain"));
        await AssertProtocolErrorAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Server_metadata_lists_the_binary_data_extension()
    {
        using var client = factory.CreateClient();
        var metadata = await OkJsonAsync<JsonNode>(await client.GetAsync("/v2"));
        Assert.Contains("binary_tensor_data", metadata["extensions"]!.AsArray().Select(e => (string)e!));
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");
}
