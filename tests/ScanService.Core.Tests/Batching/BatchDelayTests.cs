using System.Diagnostics;

namespace ScanService.Core.Tests.Batching;

/// <summary>
/// A request waits for company at most the configured delay; a full batch does not wait. Bounds are generous: the
/// machine is shared and noisy, and only the mechanism is checked here, not speed.
/// </summary>
[Collection(BatchingCollection.Name)]
public sealed class BatchDelayTests(BatchingEngine fixture)
{
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(250);

    private async Task<(TimeSpan Elapsed, RecordingObserver Observer)> ClassifyAlone(BatchingOptions options)
    {
        var observer = new RecordingObserver();
        await using var batcher = new DynamicBatcher(fixture.Engine, options, [observer], [observer]);
        var started = Stopwatch.GetTimestamp();
        await batcher.ClassifyAsync(fixture.Sample(0), 1, fixture.Engine.Resolve(new InferenceOptions { FullDepth = true }));
        return (Stopwatch.GetElapsedTime(started), observer);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(2.0)]
    public async Task A_lone_request_waits_no_longer_than_the_delay(double? delayMilliseconds)
    {
        var options = new BatchingOptions();
        if (delayMilliseconds is { } delay) options.MaxDelayMilliseconds = delay;
        var (elapsed, observer) = await ClassifyAlone(options);
        Assert.True(elapsed < options.MaxDelay + Slack, $"took {elapsed.TotalMilliseconds:F0} ms");
        Assert.True(observer.Waits.Single() < options.MaxDelay + Slack);
    }

    [Fact]
    public async Task A_lone_request_is_released_by_the_delay_not_by_a_full_batch()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        var (elapsed, observer) = await ClassifyAlone(new BatchingOptions { MaxBatchSize = 32, MaxDelayMilliseconds = delay.TotalMilliseconds });

        Assert.Equal((1, 1), observer.Batches.First());
        var waited = observer.Waits.Single();
        // Monitor.Wait and the clock may each be a millisecond or so early.
        Assert.True(waited >= delay - TimeSpan.FromMilliseconds(5), $"waited only {waited.TotalMilliseconds:F1} ms");
        Assert.True(elapsed < delay + Slack, $"took {elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_full_batch_runs_without_waiting_for_the_delay()
    {
        var observer = new RecordingObserver();
        await using var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions { MaxBatchSize = 4, MaxDelayMilliseconds = 1000 }, [observer], [observer]);
        var plan = fixture.Engine.Resolve(new InferenceOptions { FullDepth = true });

        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => batcher.ClassifyAsync(fixture.Sample(i), 1, plan)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        Assert.Equal((1, 4), observer.Batches.First());
        Assert.True(elapsed < TimeSpan.FromMilliseconds(1000), $"took {elapsed.TotalMilliseconds:F0} ms");
    }
}
