using System.Net.Http.Headers;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Degradation;
using ScanService.Api.Metrics;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Metrics;

/// <summary>Traffic that gives every scan_* instrument at least one series, for the tests that look at the whole page.</summary>
internal static class MetricTraffic
{
    public static async Task<PrometheusExposition> EveryInstrumentAsync(ScanApiFactory factory)
    {
        using var client = factory.CreateClient();
        var png = FashionMnistTestSet.Pngs(1)[0];
        // One step of graceful degradation (where it is on), so that its gauges and the degraded-answer counter have series.
        factory.Services.GetRequiredService<DegradationController>().Decide(1000, System.Diagnostics.Stopwatch.GetTimestamp());
        foreach (var query in new[] { "", "?fullDepth=true", "?ensemble=true", "?maxExit=1", "?operatingPoint=no-such-point" })
        {
            using var content = new ByteArrayContent(png);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var _ = await client.PostAsync("/v1/classify" + query, content);
        }
        using (await client.GetAsync("/v2/models/no-such-model")) { }
        await new ClassificationService.ClassificationServiceClient(factory.InMemoryChannel()).ClassifyAsync(Request("1", png));

        // The batcher reports these when it serves; here they are reported directly so that the page has them whatever
        // serves the requests.
        foreach (var observer in factory.Services.GetServices<IInferenceObserver>().OfType<InferenceMetricsObserver>())
        {
            observer.StageCompleted(1, 2, TimeSpan.FromMilliseconds(1));
            observer.ExitHeadCompleted(1, 2, TimeSpan.FromMilliseconds(1));
        }
        foreach (var observer in factory.Services.GetServices<IServingObserver>().OfType<ServingMetricsObserver>())
        {
            observer.QueueDepthChanged(1);
            observer.BatchFormed(1, 2);
            observer.QueueWaited(TimeSpan.FromMilliseconds(1));
            observer.Rejected();
        }

        // With every answer sampled, wait for the agreement check to have counted the early answers.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var metrics = await PrometheusExposition.ScrapeAsync(client);
            if (metrics.Series("scan_agreement_sampled_total").Sum(s => s.Value) >= 2 || DateTime.UtcNow > deadline) return metrics;
            await Task.Delay(100);
        }
    }
}

/// <summary>
/// An app of its own, every answer sampled for agreement, after <see cref="MetricTraffic.EveryInstrumentAsync"/>: the
/// whole page, for the test classes that read it (one per class; the page is only read).
/// </summary>
public sealed class EveryInstrumentPage : IAsyncLifetime
{
    /// <summary>
    /// Labels a series has once scraped, beyond its own: Prometheus adds job and instance to every series, the Prometheus
    /// Operator (deploy/kubernetes) namespace and pod, which the dashboard's variables filter on.
    /// </summary>
    public static readonly string[] TargetLabels = ["job", "instance", "namespace", "pod"];

    public ScanApiFactory Factory { get; } = new ScanApiFactory()
        .With("Metrics:AgreementSampleRate", "1")
        // Degradation on with its loop asleep: the traffic moves it one step itself.
        .With("Degradation:Enabled", "true")
        .With("Degradation:IntervalMilliseconds", "60000");

    public PrometheusExposition Metrics { get; private set; } = null!;

    public async Task InitializeAsync() => Metrics = await MetricTraffic.EveryInstrumentAsync(Factory);

    public Task DisposeAsync()
    {
        Factory.Dispose();
        return Task.CompletedTask;
    }
}
