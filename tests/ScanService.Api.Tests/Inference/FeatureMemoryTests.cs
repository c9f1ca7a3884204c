using Images = ScanService.Api.Tests.Rest.FashionMnistImages;

namespace ScanService.Api.Tests.Inference;

/// <summary>
/// Model:FeatureMemory=Device runs the service on the code path CUDA takes (feature maps in ONNX Runtime's memory,
/// IOBinding, Gather compaction), here on the CPU allocator: it reports so and answers as the default does.
/// </summary>
public sealed class FeatureMemoryTests : IDisposable
{
    private readonly ScanApiFactory _host = new();
    private readonly ScanApiFactory _device = new ScanApiFactory().With("Model:FeatureMemory", "Device");
    // What CUDA runs by default: device memory and one fixed batch (here smaller than the batcher's, so batches also run in parts).
    private readonly ScanApiFactory _fixed = new ScanApiFactory().With("Model:FeatureMemory", "Device").With("Model:FixedBatchSize", "3");

    // Every run on the shared pool, and a budget of four images through the costliest stage (the default is about one).
    private readonly ScanApiFactory _pooled = new ScanApiFactory().With("Model:InlineMaxMultiplyAdds", "0");
    private readonly ScanApiFactory _inline = new ScanApiFactory().With("Model:InlineMaxMultiplyAdds", "40000000");

    public void Dispose()
    {
        _host.Dispose();
        _device.Dispose();
        _fixed.Dispose();
        _pooled.Dispose();
        _inline.Dispose();
    }

    [Fact]
    public async Task The_inline_budget_is_reported_with_each_graphs_row_limit_and_gives_the_pooled_answers_for_every_option()
    {
        using var pooled = _pooled.CreateClient();
        using var host = _host.CreateClient();
        using var inline = _inline.CreateClient();
        Assert.Null(await InlineRows(pooled));
        var byDefault = await InlineRows(host);
        var larger = await InlineRows(inline);
        // One entry per stage, attention module and classifier of the committed bundle (4 + 3 + 4).
        Assert.Equal(11, byDefault!.Count);
        Assert.Equal(1, byDefault["stage4.onnx"]);
        Assert.Equal(40_000_000 / 8_388_608, larger!["stage4.onnx"]);
        Assert.All(byDefault, g => Assert.True(larger[g.Key] >= g.Value));
        await AssertSameAnswers(pooled, host);
        await AssertSameAnswers(pooled, inline);
    }

    private static async Task<Dictionary<string, int>?> InlineRows(HttpClient client)
    {
        var provider = (await OkJsonAsync<JsonElement>(await client.GetAsync("/v1/model"))).GetProperty("executionProvider");
        if (!provider.TryGetProperty("inlineMaxMultiplyAdds", out var budget) || budget.ValueKind == JsonValueKind.Null) return null;
        Assert.True(budget.GetInt64() > 0);
        return provider.GetProperty("inlineMaxRows").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
    }

    [Fact]
    public Task Device_feature_memory_is_reported_and_gives_the_default_answers_for_every_option() => AssertSameAnswers(_device, expectedFixedBatch: null);

    [Fact]
    public Task A_fixed_batch_is_reported_and_gives_the_default_answers_for_every_option() => AssertSameAnswers(_fixed, expectedFixedBatch: 3);

    private async Task AssertSameAnswers(ScanApiFactory other, int? expectedFixedBatch)
    {
        using var host = _host.CreateClient();
        using var device = other.CreateClient();

        var model = await OkJsonAsync<JsonElement>(await device.GetAsync("/v1/model"));
        var provider = model.GetProperty("executionProvider");
        Assert.Equal(nameof(FeatureMemory.Device), provider.GetProperty("featureMemory").GetString());
        Assert.Equal(expectedFixedBatch, provider.TryGetProperty("fixedBatchSize", out var size) && size.ValueKind == JsonValueKind.Number ? size.GetInt32() : null);
        await AssertSameAnswers(host, device);
    }

    private static async Task AssertSameAnswers(HttpClient host, HttpClient device)
    {
        foreach (var query in new[] { "", "?operatingPoint=fast", "?operatingPoint=accurate", "?ensemble=true", "?fullDepth=true", "?maxExit=2" })
        {
            // Concurrent requests, so that the batcher regroups survivors of several batches.
            var images = Enumerable.Range(0, Images.Count).ToArray();
            var expected = await Task.WhenAll(images.Select(i => host.ClassifyAsync(Images.Png(i), query)));
            var actual = await Task.WhenAll(images.Select(i => device.ClassifyAsync(Images.Png(i), query)));
            for (var i = 0; i < images.Length; i++)
            {
                Assert.Equal((expected[i].ClassIndex, expected[i].Exit), (actual[i].ClassIndex, actual[i].Exit));
                Assert.Equal(expected[i].Confidence, actual[i].Confidence, 1e-6f);
            }
        }
    }
}
