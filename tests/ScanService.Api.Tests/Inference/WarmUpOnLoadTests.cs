using Microsoft.Extensions.Logging;
using ScanService.Api.Tests.Reliability;

namespace ScanService.Api.Tests.Inference;

/// <summary>
/// <c>Model:WarmUpOnLoad</c>: every graph runs once at each batch size the batcher can form before the model is ready
/// (on by default only under CUDA, where a shape's first run pays the cuDNN algorithm choice).
/// </summary>
public sealed class WarmUpOnLoadTests
{
    private static bool IsWarmUpLine((LogLevel Level, string Category, string Message) entry) =>
        entry.Message.StartsWith("Warmed up ", StringComparison.Ordinal);

    [Fact]
    public async Task Warming_up_on_load_runs_every_batch_size_the_batcher_forms_and_then_serves()
    {
        using var factory = new LoggedScanApiFactory();
        factory.With("Model:WarmUpOnLoad", "true").With("Batching:MaxBatchSize", "6");
        using var client = factory.CreateClient();

        var answer = await client.ClassifyAsync(Rest.FashionMnistImages.Png(0), "?operatingPoint=balanced");

        Assert.Equal("balanced", answer.OperatingPoint);
        var line = Assert.Single(factory.Log.Entries, IsWarmUpLine);
        Assert.Contains("CPUExecutionProvider", line.Message, StringComparison.Ordinal);
        Assert.Contains("batch sizes 1 to 6", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_batcher_warming_up_covers_every_batch_a_request_may_carry()
    {
        using var factory = new LoggedScanApiFactory();
        factory.With("Model:WarmUpOnLoad", "true").With("Batching:Enabled", "false").With("Limits:MaxBatchImages", "5");
        using var client = factory.CreateClient();

        await client.ClassifyAsync(Rest.FashionMnistImages.Png(0));

        Assert.Contains("batch sizes 1 to 5", Assert.Single(factory.Log.Entries, IsWarmUpLine).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_CPU_the_model_is_not_warmed_up_unless_asked()
    {
        using var factory = new LoggedScanApiFactory();
        using var client = factory.CreateClient();

        await client.ClassifyAsync(Rest.FashionMnistImages.Png(0));

        Assert.DoesNotContain(factory.Log.Entries, IsWarmUpLine);
        Assert.Contains(factory.Log.Entries, e => e.Message.Contains("Model fashion-mnist-scan", StringComparison.Ordinal));
    }
}
