
namespace ScanService.Api.Tests.Rest;

/// <summary>POST /v1/classify: one image in, one answer out, consistent with the engine and with the options.</summary>
public class ClassifyApiTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Answer_has_label_class_confidence_topK_exit_mode_timings_and_model_in_camelCase()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw(FashionMnistImages.Png(0), "image/png"));
        var json = await OkJsonAsync<JsonElement>(response);
        var model = factory.Model();

        var classIndex = json.GetProperty("classIndex").GetInt32();
        Assert.Equal(model.Manifest.Labels[classIndex], json.GetProperty("label").GetString());
        var topK = json.GetProperty("topK").EnumerateArray().ToList();
        Assert.Equal(ScanService.Api.Serving.RequestOptions.DefaultTopK, topK.Count);
        Assert.Equal(classIndex, topK[0].GetProperty("classIndex").GetInt32());
        Assert.Equal(json.GetProperty("confidence").GetSingle(), topK[0].GetProperty("probability").GetSingle());
        Assert.All(topK, t => Assert.Equal(model.Manifest.Labels[t.GetProperty("classIndex").GetInt32()], t.GetProperty("label").GetString()));
        var probabilities = topK.Select(t => t.GetProperty("probability").GetSingle()).ToList();
        Assert.Equal(probabilities.OrderDescending(), probabilities);
        Assert.InRange(json.GetProperty("exit").GetInt32(), 1, model.Engine.ExitCount);
        Assert.Equal(model.Engine.ExitCount, json.GetProperty("exitCount").GetInt32());
        Assert.Equal("earlyExit", json.GetProperty("mode").GetString());
        Assert.Equal(model.Manifest.DefaultOperatingPoint, json.GetProperty("operatingPoint").GetString());
        Assert.True(json.GetProperty("timings").GetProperty("preprocessMs").GetDouble() >= 0);
        Assert.True(json.GetProperty("timings").GetProperty("inferenceMs").GetDouble() > 0);
        Assert.Equal(model.Name, json.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal(model.Version, json.GetProperty("model").GetProperty("version").GetString());
    }

    [Fact]
    public async Task Default_answer_is_the_engines_early_exit_answer_under_the_default_operating_point()
    {
        var model = factory.Model();
        for (var i = 0; i < 6; i++)
        {
            var png = FashionMnistImages.Png(i);
            var answer = await _client.ClassifyAsync(png);
            var expected = model.Engine.Run(model.Preprocess(png), 1, model.Engine.Resolve(InferenceOptions.Default))[0];
            Assert.Equal((expected.ClassIndex, expected.Exit), (answer.ClassIndex, answer.Exit));
            Assert.Equal(expected.Confidence, answer.Confidence, 1e-6f);
        }
    }

    [Theory]
    [InlineData("image/png")]
    [InlineData("image/jpeg")]
    [InlineData("image/bmp")]
    [InlineData("image/webp")]
    [InlineData("image/gif")]
    [InlineData("application/octet-stream")]
    public async Task Every_accepted_content_type_reads_the_body_as_an_image_recognised_by_its_data(string contentType)
    {
        var png = FashionMnistImages.Png(1);
        var expected = await _client.ClassifyAsync(png);
        using var response = await _client.PostAsync("/v1/classify", Raw(png, contentType));
        var answer = await OkJsonAsync<ClassifyResponse>(response);
        Assert.Equal((expected.ClassIndex, expected.Exit, expected.Confidence), (answer.ClassIndex, answer.Exit, answer.Confidence));
    }

    [Fact]
    public async Task Lossless_BMP_and_WebP_of_the_same_pixels_answer_as_the_PNG()
    {
        var expected = await _client.ClassifyAsync(FashionMnistImages.Png(2));
        foreach (var (bytes, type) in new[] { (FashionMnistImages.Bmp(2), "image/bmp"), (FashionMnistImages.LosslessWebp(2), "image/webp") })
        {
            using var response = await _client.PostAsync("/v1/classify", Raw(bytes, type));
            var answer = await OkJsonAsync<ClassifyResponse>(response);
            Assert.Equal((expected.ClassIndex, expected.Exit, expected.Confidence), (answer.ClassIndex, answer.Exit, answer.Confidence));
        }
    }

    [Fact]
    public async Task Multipart_field_image_answers_as_the_raw_body()
    {
        var png = FashionMnistImages.Png(3);
        var expected = await _client.ClassifyAsync(png, "?topK=3");
        using var response = await _client.PostAsync("/v1/classify?topK=3", Form(("image", "three.png", png)));
        var answer = await OkJsonAsync<ClassifyResponse>(response);
        Assert.Equal(expected.TopK, answer.TopK);
        Assert.Equal(expected.Exit, answer.Exit);
    }

    [Fact]
    public async Task Full_depth_answers_at_the_last_exit_with_the_monolithic_graphs_class()
    {
        var model = factory.Model();
        for (var i = 0; i < 8; i++)
        {
            var png = FashionMnistImages.Png(i);
            var answer = await _client.ClassifyAsync(png, "?fullDepth=true");
            var monolithic = model.Engine.RunMonolithic(model.Preprocess(png), 1)[0];

            Assert.Equal(answer.ExitCount, answer.Exit);
            Assert.Equal(ExitMode.FullDepth, answer.Mode);
            Assert.Null(answer.OperatingPoint);
            Assert.Equal(monolithic.ClassIndex, answer.ClassIndex);
            Assert.Equal(monolithic.Confidence, answer.Confidence, 1e-4f);
        }
    }

    [Fact]
    public async Task MaxExit_1_with_any_operating_point_answers_at_exit_1()
    {
        foreach (var point in factory.Model().Manifest.OperatingPoints)
        {
            for (var i = 0; i < 4; i++)
            {
                var answer = await _client.ClassifyAsync(FashionMnistImages.Png(i), $"?maxExit=1&operatingPoint={point.Name}");
                Assert.Equal(1, answer.Exit);
                Assert.Equal(point.Name, answer.OperatingPoint);
                Assert.Equal(ExitMode.EarlyExit, answer.Mode);
            }
        }
    }

    [Fact]
    public async Task Operating_point_names_the_threshold_set_that_decided_and_matches_the_engine()
    {
        var model = factory.Model();
        foreach (var point in model.Manifest.OperatingPoints)
        {
            var png = FashionMnistImages.Png(4);
            var answer = await _client.ClassifyAsync(png, $"?operatingPoint={point.Name}");
            var expected = model.Engine.Run(model.Preprocess(png), 1, model.Engine.Resolve(new InferenceOptions { OperatingPoint = point.Name }))[0];
            Assert.Equal(point.Name, answer.OperatingPoint);
            Assert.Equal((expected.ClassIndex, expected.Exit), (answer.ClassIndex, answer.Exit));
        }
    }

    [Theory]
    [InlineData(null, 4)]
    [InlineData(2, 2)]
    public async Task Ensemble_answers_at_the_deepest_allowed_exit(int? maxExit, int expectedExit)
    {
        var query = maxExit is null ? "?ensemble=true" : $"?ensemble=true&maxExit={maxExit}";
        var answer = await _client.ClassifyAsync(FashionMnistImages.Png(5), query);
        Assert.Equal(ExitMode.Ensemble, answer.Mode);
        Assert.Equal(expectedExit, answer.Exit);
        Assert.Null(answer.OperatingPoint);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(50, 10)]
    public async Task TopK_lists_that_many_classes_at_most_every_class(int topK, int expected)
    {
        var answer = await _client.ClassifyAsync(FashionMnistImages.Png(6), $"?topK={topK}");
        Assert.Equal(expected, answer.TopK.Count);
        Assert.Equal(answer.ClassIndex, answer.TopK[0].ClassIndex);
        Assert.Equal(expected, answer.TopK.Select(t => t.ClassIndex).Distinct().Count());
    }

    [Fact]
    public async Task Samples_in_the_repository_are_28x28_grey_PNGs_the_service_classifies()
    {
        var samples = Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "samples"), "*.png");
        Assert.InRange(samples.Length, 4, 6);
        foreach (var path in samples)
        {
            var bytes = await File.ReadAllBytesAsync(path);
            using var codec = SkiaSharp.SKCodec.Create(new MemoryStream(bytes));
            Assert.Equal((SkiaSharp.SKEncodedImageFormat.Png, 28, 28, SkiaSharp.SKColorType.Gray8),
                (codec.EncodedFormat, codec.Info.Width, codec.Info.Height, codec.Info.ColorType));
            var answer = await _client.ClassifyAsync(bytes);
            Assert.InRange(answer.ClassIndex, 0, factory.Model().Manifest.Labels.Count - 1);
        }
    }
}
