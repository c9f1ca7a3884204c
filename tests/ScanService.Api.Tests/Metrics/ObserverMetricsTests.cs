using ScanService.Api.Classifier;
using ScanService.Api.Metrics;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// What the engine and the batcher report through the observer contracts reaches /metrics. The observers are called
/// directly here, as the batcher calls the ones it resolves, so that this checks the metrics and not the batcher.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class ObserverMetricsTests : IDisposable
{
    private readonly ScanApiFactory _factory = new ScanApiFactory().With("Metrics:AgreementSampleRate", "0");

    public void Dispose() => _factory.Dispose();

    [Fact]
    public void The_metrics_observers_are_registered_for_the_engine_batcher_and_classifier()
    {
        var services = _factory.Services;
        Assert.Contains(services.GetServices<IInferenceObserver>(), o => o is InferenceMetricsObserver);
        Assert.Contains(services.GetServices<IServingObserver>(), o => o is ServingMetricsObserver);
        Assert.Contains(services.GetServices<IClassificationObserver>(), o => o is ExitDepthObserver);
        Assert.Contains(services.GetServices<IClassificationObserver>(), o => o is AgreementSampler);
    }

    [Fact]
    public async Task Stage_and_exit_head_runs_are_timed_and_their_samples_counted()
    {
        var observer = _factory.Services.GetServices<IInferenceObserver>().OfType<InferenceMetricsObserver>().Single();

        observer.StageCompleted(1, 8, TimeSpan.FromMilliseconds(2));
        observer.StageCompleted(2, 3, TimeSpan.FromMilliseconds(4));
        observer.ExitHeadCompleted(1, 8, TimeSpan.FromMilliseconds(0.5));

        using var client = _factory.CreateClient();
        var metrics = await PrometheusExposition.ScrapeAsync(client);
        Assert.Equal(1, metrics.Value("scan_stage_duration_seconds_count", ("stage", "1")));
        Assert.Equal(0.004, metrics.Value("scan_stage_duration_seconds_sum", ("stage", "2")), 6);
        Assert.Equal(8, metrics.Value("scan_stage_samples_total", ("stage", "1")));
        Assert.Equal(3, metrics.Value("scan_stage_samples_total", ("stage", "2")));
        Assert.Equal(0.0005, metrics.Value("scan_exit_head_duration_seconds_sum", ("exit", "1")), 6);
    }

    [Fact]
    public async Task Served_requests_time_every_stage_and_the_exit_head_they_ran()
    {
        using var client = _factory.CreateClient();
        var exits = _factory.Model().Engine.ExitCount;

        await client.ClassifyAsync(FashionMnistTestSet.Pngs(1)[0], "?fullDepth=true");

        var metrics = await PrometheusExposition.ScrapeAsync(client);
        for (var stage = 1; stage <= exits; stage++)
            Assert.True(metrics.Value("scan_stage_duration_seconds_count", ("stage", $"{stage}")) >= 1, $"stage {stage} was not timed");
        Assert.True(metrics.Value("scan_exit_head_duration_seconds_count", ("exit", $"{exits}")) >= 1, "the deepest exit head was not timed");
    }

    [Fact]
    public async Task Queue_depth_batches_waits_and_refusals_reach_the_metrics()
    {
        var observer = _factory.Services.GetServices<IServingObserver>().OfType<ServingMetricsObserver>().Single();

        observer.QueueDepthChanged(7);
        observer.QueueDepthChanged(5);
        observer.BatchFormed(1, 16);
        observer.BatchFormed(1, 4);
        observer.BatchFormed(2, 9);
        observer.QueueWaited(TimeSpan.FromMilliseconds(3));
        observer.Rejected();
        observer.Rejected();

        using var client = _factory.CreateClient();
        var metrics = await PrometheusExposition.ScrapeAsync(client);
        Assert.Equal(5, metrics.Value("scan_queue_depth"));
        Assert.Equal(2, metrics.Value("scan_batch_size_count", ("stage", "1")));
        Assert.Equal(20, metrics.Value("scan_batch_size_sum", ("stage", "1")));
        Assert.Equal(1, metrics.Value("scan_batch_size_bucket", ("stage", "2"), ("le", "16")));
        Assert.Equal(0, metrics.Value("scan_batch_size_bucket", ("stage", "2"), ("le", "8")));
        Assert.Equal(1, metrics.Value("scan_queue_wait_seconds_count"));
        Assert.Equal(2, metrics.Value("scan_requests_rejected_total"));
    }

    [Fact]
    public async Task Refusals_start_at_zero_so_that_rate_has_a_series()
    {
        using var client = _factory.CreateClient();

        var metrics = await PrometheusExposition.ScrapeAsync(client);

        Assert.Equal(0, Assert.Single(metrics.Series("scan_requests_rejected_total")).Value);
    }
}
