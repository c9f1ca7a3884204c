using ScanService.Api.Degradation;
using Microsoft.Extensions.Options;
using ScanService.Api.Metrics;

namespace ScanService.Api.Tests.Metrics;

/// <summary>Sampled early answers are run on to full depth off the request's path, and their agreement is counted.</summary>
[Collection(MetricsCollection.Name)]
public sealed class AgreementTests
{
    private const int Images = 16;

    [Fact]
    public async Task Every_sampled_early_answer_is_checked_against_the_full_depth_answer()
    {
        using var factory = new ScanApiFactory().With("Metrics:AgreementSampleRate", "1");
        using var client = factory.CreateClient();
        var model = factory.Model();
        var point = model.Manifest.DefaultOperatingPoint ?? ScanMetrics.NoOperatingPoint;

        var agreeing = 0;
        foreach (var png in FashionMnistTestSet.Pngs(Images))
        {
            var early = await client.ClassifyAsync(png);
            // Full-depth answers are the reference: they are never sampled themselves.
            var full = await client.ClassifyAsync(png, "?fullDepth=true");
            if (early.ClassIndex == full.ClassIndex) agreeing++;
        }

        var metrics = await ScrapeUntilAsync(client, m => m.Value("scan_agreement_sampled_total", ("operating_point", point)) >= Images);
        Assert.Equal(Images, metrics.Series("scan_agreement_sampled_total").Sum(s => s.Value));
        Assert.Equal(agreeing, metrics.Value("scan_agreement_agreed_total", ("operating_point", point)));
        Assert.Equal(0, metrics.Value("scan_agreement_dropped_total"));
    }

    [Fact]
    public async Task Nothing_is_sampled_at_rate_zero()
    {
        using var factory = new ScanApiFactory().With("Metrics:AgreementSampleRate", "0");
        using var client = factory.CreateClient();

        foreach (var png in FashionMnistTestSet.Pngs(4)) await client.ClassifyAsync(png);

        var metrics = await PrometheusExposition.ScrapeAsync(client);
        Assert.Equal(0, metrics.Series("scan_agreement_sampled_total").Sum(s => s.Value));
    }

    [Fact]
    public async Task A_full_queue_drops_samples_and_counts_them_instead_of_waiting()
    {
        using var factory = new ScanApiFactory().With("Metrics:AgreementSampleRate", "0");
        using var client = factory.CreateClient();
        var model = factory.Model();
        // A sampler of its own with no checker reading it: its queue fills after two samples.
        var sampler = new AgreementSampler(
            Options.Create(new MetricsOptions { AgreementSampleRate = 1, AgreementQueueCapacity = 2 }),
            factory.Services.GetRequiredService<ScanMetrics>(),
            factory.Services.GetRequiredService<DegradationController>());
        var plan = model.Engine.Resolve(new InferenceOptions { OperatingPoint = model.Manifest.OperatingPoints[0].Name });
        var sample = new float[model.Engine.SampleSize];
        var earlyAnswer = new Prediction(0, 0.9f, 1, new float[model.Engine.ClassCount]);

        for (var i = 0; i < 5; i++) sampler.Answered(model, plan, sample, earlyAnswer);

        Assert.Equal(2, sampler.Pending.Count);
        var metrics = await PrometheusExposition.ScrapeAsync(client);
        Assert.Equal(3, metrics.Value("scan_agreement_dropped_total", ("model", model.Name)));
    }

    private static async Task<PrometheusExposition> ScrapeUntilAsync(HttpClient client, Func<PrometheusExposition, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var metrics = await PrometheusExposition.ScrapeAsync(client);
            if (done(metrics) || DateTime.UtcNow > deadline) return metrics;
            await Task.Delay(100);
        }
    }
}
