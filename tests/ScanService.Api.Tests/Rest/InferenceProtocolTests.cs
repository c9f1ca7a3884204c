
namespace ScanService.Api.Tests.Rest;

/// <summary>The Open Inference Protocol (KServe v2) routes: metadata, health, and inference on tensors or images.</summary>
public class InferenceProtocolTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private string ModelName => factory.Model().Name;

    [Fact]
    public async Task Server_metadata_has_name_version_and_extensions()
    {
        var json = await OkJsonAsync<JsonElement>(await _client.GetAsync("/v2"));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("name").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("version").GetString()));
        Assert.Equal(JsonValueKind.Array, json.GetProperty("extensions").ValueKind);
    }

    [Theory]
    [InlineData("/v2/health/live")]
    [InlineData("/v2/health/ready")]
    public async Task Health_is_200_with_the_model_loaded(string path)
    {
        using var response = await _client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Model_ready_is_200_by_name_and_by_version()
    {
        var model = factory.Model();
        using var byName = await _client.GetAsync($"/v2/models/{model.Name}/ready");
        using var byVersion = await _client.GetAsync($"/v2/models/{model.Name}/versions/{model.Version}/ready");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (byName.StatusCode, byVersion.StatusCode));
    }

    [Fact]
    public async Task Model_metadata_names_the_model_its_version_platform_inputs_and_outputs()
    {
        var model = factory.Model();
        foreach (var path in new[] { $"/v2/models/{model.Name}", $"/v2/models/{model.Name}/versions/{model.Version}" })
        {
            var json = await OkJsonAsync<JsonElement>(await _client.GetAsync(path));
            Assert.Equal(model.Name, json.GetProperty("name").GetString());
            Assert.Equal([model.Version], json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
            Assert.Contains("onnx", json.GetProperty("platform").GetString());

            var inputs = Tensors(json.GetProperty("inputs"));
            Assert.Equal(["input FP32 [-1,1,28,28]", "image BYTES [-1]"], inputs);
            var outputs = Tensors(json.GetProperty("outputs"));
            Assert.Equal([$"probabilities FP32 [-1,{model.Manifest.Labels.Count}]", "class_index INT64 [-1]", "exit_index INT64 [-1]", "confidence FP32 [-1]"], outputs);
        }
    }

    [Fact]
    public async Task Fp32_tensor_answer_agrees_with_the_image_endpoint_and_has_the_protocols_shape()
    {
        var model = factory.Model();
        var png = FashionMnistImages.Png(8);
        var expected = await _client.ClassifyAsync(png);

        using var response = await _client.PostAsync($"/v2/models/{ModelName}/infer",
            InferBody(Fp32Request(model.Preprocess(png), 1, id: "request-42")));
        var json = await OkJsonAsync<JsonElement>(response);

        Assert.Equal(model.Name, json.GetProperty("model_name").GetString());
        Assert.Equal(model.Version, json.GetProperty("model_version").GetString());
        Assert.Equal("request-42", json.GetProperty("id").GetString());
        var outputs = Outputs(json);
        Assert.Equal(["probabilities", "class_index", "exit_index", "confidence"], outputs.Keys);
        Assert.Equal(["FP32", "INT64", "INT64", "FP32"], outputs.Values.Select(o => o.Datatype));
        Assert.Equal([[1, 10], [1], [1], [1]], outputs.Values.Select(o => o.Shape));

        Assert.Equal(expected.ClassIndex, outputs["class_index"].Data[0].GetInt64());
        Assert.Equal(expected.Exit, outputs["exit_index"].Data[0].GetInt64());
        Assert.Equal(expected.Confidence, outputs["confidence"].Data[0].GetSingle(), 1e-6f);
        Assert.Equal(expected.Confidence, outputs["probabilities"].Data[expected.ClassIndex].GetSingle(), 1e-6f);
        Assert.Equal(1.0, outputs["probabilities"].Data.Sum(p => p.GetDouble()), 1e-4);
    }

    [Fact]
    public async Task A_batch_tensor_answers_each_row_as_the_image_endpoint_does()
    {
        var model = factory.Model();
        var indices = new[] { 10, 11, 12 };
        var data = indices.SelectMany(i => model.Preprocess(FashionMnistImages.Png(i))).ToArray();
        using var response = await _client.PostAsync($"/v2/models/{ModelName}/infer", InferBody(Fp32Request(data, indices.Length)));
        var outputs = Outputs(await OkJsonAsync<JsonElement>(response));

        Assert.Equal(new long[] { 3, 10 }, outputs["probabilities"].Shape);
        for (var k = 0; k < indices.Length; k++)
        {
            var single = await _client.ClassifyAsync(FashionMnistImages.Png(indices[k]));
            Assert.Equal(single.ClassIndex, outputs["class_index"].Data[k].GetInt64());
            Assert.Equal(single.Exit, outputs["exit_index"].Data[k].GetInt64());
        }
    }

    [Fact]
    public async Task Nested_data_answers_as_flat_data()
    {
        var model = factory.Model();
        var flat = model.Preprocess(FashionMnistImages.Png(13));
        var nested = new[] { new[] { Enumerable.Range(0, 28).Select(r => flat.AsSpan(r * 28, 28).ToArray()).ToArray() } };
        var request = new { inputs = new[] { new { name = "input", shape = new[] { 1, 1, 28, 28 }, datatype = "FP32", data = nested } } };

        var fromFlat = Outputs(await OkJsonAsync<JsonElement>(await _client.PostAsync($"/v2/models/{ModelName}/infer", InferBody(Fp32Request(flat, 1)))));
        var fromNested = Outputs(await OkJsonAsync<JsonElement>(await _client.PostAsync($"/v2/models/{ModelName}/infer", InferBody(request))));
        Assert.Equal(fromFlat["probabilities"].Data.Select(p => p.GetSingle()), fromNested["probabilities"].Data.Select(p => p.GetSingle()));
    }

    [Fact]
    public async Task Bytes_input_of_base64_images_answers_as_the_fp32_tensor_of_the_same_images()
    {
        var model = factory.Model();
        var pngs = new[] { FashionMnistImages.Png(14), FashionMnistImages.Png(15) };
        var images = new { inputs = new[] { new { name = "image", shape = new[] { 2 }, datatype = "BYTES", data = pngs.Select(Convert.ToBase64String).ToArray() } } };
        var fromImages = Outputs(await OkJsonAsync<JsonElement>(await _client.PostAsync($"/v2/models/{ModelName}/infer", InferBody(images))));
        var tensor = pngs.SelectMany(model.Preprocess).ToArray();
        var fromTensor = Outputs(await OkJsonAsync<JsonElement>(await _client.PostAsync($"/v2/models/{ModelName}/infer", InferBody(Fp32Request(tensor, 2)))));

        foreach (var output in new[] { "class_index", "exit_index" })
            Assert.Equal(fromTensor[output].Data.Select(d => d.GetInt64()), fromImages[output].Data.Select(d => d.GetInt64()));
        Assert.Equal(fromTensor["probabilities"].Data.Select(p => p.GetSingle()), fromImages["probabilities"].Data.Select(p => p.GetSingle()));
    }

    [Fact]
    public async Task Parameters_full_depth_answers_every_row_at_the_last_exit()
    {
        var model = factory.Model();
        var data = Enumerable.Range(0, 4).SelectMany(i => model.Preprocess(FashionMnistImages.Png(i))).ToArray();
        using var response = await _client.PostAsync($"/v2/models/{ModelName}/infer", InferBody(Fp32Request(data, 4, new { full_depth = true })));
        var outputs = Outputs(await OkJsonAsync<JsonElement>(response));
        Assert.All(outputs["exit_index"].Data, e => Assert.Equal(model.Engine.ExitCount, e.GetInt64()));
        for (var k = 0; k < 4; k++)
        {
            var monolithic = model.Engine.RunMonolithic(data[(k * 784)..((k + 1) * 784)], 1)[0];
            Assert.Equal(monolithic.ClassIndex, outputs["class_index"].Data[k].GetInt64());
        }
    }

    [Fact]
    public async Task Parameters_max_exit_1_and_an_operating_point_answer_every_row_at_exit_1()
    {
        var model = factory.Model();
        var data = Enumerable.Range(0, 4).SelectMany(i => model.Preprocess(FashionMnistImages.Png(i))).ToArray();
        var point = model.Manifest.OperatingPoints[^1].Name;
        using var response = await _client.PostAsync($"/v2/models/{ModelName}/versions/{model.Version}/infer",
            InferBody(Fp32Request(data, 4, new Dictionary<string, object> { ["max_exit"] = 1, ["operating_point"] = point })));
        var outputs = Outputs(await OkJsonAsync<JsonElement>(response));
        Assert.All(outputs["exit_index"].Data, e => Assert.Equal(1, e.GetInt64()));
    }

    [Fact]
    public async Task Parameters_ensemble_answers_at_the_deepest_allowed_exit()
    {
        var model = factory.Model();
        using var response = await _client.PostAsync($"/v2/models/{ModelName}/infer",
            InferBody(Fp32Request(model.Preprocess(FashionMnistImages.Png(0)), 1, new { ensemble = true, max_exit = 3 })));
        Assert.Equal(3, Outputs(await OkJsonAsync<JsonElement>(response))["exit_index"].Data[0].GetInt64());
    }

    [Fact]
    public async Task Requested_outputs_are_the_only_ones_answered()
    {
        var model = factory.Model();
        var request = new
        {
            inputs = new[] { new { name = "input", shape = new[] { 1, 1, 28, 28 }, datatype = "FP32", data = model.Preprocess(FashionMnistImages.Png(0)) } },
            outputs = new[] { new { name = "exit_index" }, new { name = "class_index" } },
        };
        var json = await OkJsonAsync<JsonElement>(await _client.PostAsync($"/v2/models/{ModelName}/infer", JsonContent.Create(request)));
        Assert.Equal(["class_index", "exit_index"], Outputs(json).Keys);
        Assert.False(json.TryGetProperty("id", out _));
    }

    /// <summary>Each tensor as "name DATATYPE [shape]".</summary>
    private static List<string> Tensors(JsonElement list) =>
        list.EnumerateArray()
            .Select(t => $"{t.GetProperty("name").GetString()} {t.GetProperty("datatype").GetString()} [{string.Join(',', t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToList();

    private static Dictionary<string, (string Datatype, long[] Shape, List<JsonElement> Data)> Outputs(JsonElement response)
    {
        var outputs = new Dictionary<string, (string, long[], List<JsonElement>)>();
        foreach (var output in response.GetProperty("outputs").EnumerateArray())
        {
            var shape = output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var data = output.GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(shape.Aggregate(1L, (a, d) => a * d), data.Count);
            outputs.Add(output.GetProperty("name").GetString()!, (output.GetProperty("datatype").GetString()!, shape, data));
        }
        return outputs;
    }
}
