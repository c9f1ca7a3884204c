using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using ScanService.Api.Grpc.V1;
using ScanService.Api.Metrics;
using ScanService.Core.Inference;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Metrics;

/// <summary>Traffic that gives every scan_* instrument at least one series, for the tests that look at the whole page.</summary>
internal static class MetricTraffic
{
    public static async Task<PrometheusExposition> EveryInstrumentAsync(ScanApiFactory factory)
    {
        using var client = factory.CreateClient();
        var png = FashionMnistTestSet.Pngs(1)[0];
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
