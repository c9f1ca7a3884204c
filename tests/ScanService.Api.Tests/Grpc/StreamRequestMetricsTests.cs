using ScanService.Api.Tests.Metrics;
using ScanService.Protocols.Scan.V1;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Grpc;

/// <summary>
/// Stream items in the request metrics. Counted exactly, so in the metrics collection: OpenTelemetry listens to meters
/// by name across the process, and another test's app running beside this one would add to (or, as it stops, take
/// away from) the series scraped here.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class StreamRequestMetricsTests : IDisposable
{
    private readonly ScanApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Each_streamed_item_is_a_request_in_the_request_metrics()
    {
        var images = FashionMnistImages.Take(3);
        var before = await StreamRequestsAsync();

        var answers = await ClassifyStreamTests.ExchangeAsync(new ClassificationService.ClassificationServiceClient(_factory.InMemoryChannel()),
            Enumerable.Range(0, 5).Select(i => Request($"item-{i}", images[i % images.Count])));

        Assert.Equal(5, answers.Count);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await StreamRequestsAsync() < before + 5 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(before + 5, await StreamRequestsAsync());
    }

    /// <summary>scan_request_duration_seconds_count of front end grpc_stream, outcome ok.</summary>
    private async Task<double> StreamRequestsAsync()
    {
        using var http = _factory.CreateClient();
        var metrics = await PrometheusExposition.ScrapeAsync(http);
        return metrics.Series("scan_request_duration_seconds_count")
            .Where(s => s.Label("front_end") == "grpc_stream" && s.Label("outcome") == "ok").Sum(s => s.Value);
    }
}
