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

    public void Dispose()
    {
        _host.Dispose();
        _device.Dispose();
    }

    [Fact]
    public async Task Device_feature_memory_is_reported_and_gives_the_default_answers_for_every_option()
    {
        using var host = _host.CreateClient();
        using var device = _device.CreateClient();

        var model = await OkJsonAsync<JsonElement>(await device.GetAsync("/v1/model"));
        Assert.Equal(nameof(FeatureMemory.Device), model.GetProperty("executionProvider").GetProperty("featureMemory").GetString());

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
