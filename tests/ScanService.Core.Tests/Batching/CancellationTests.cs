
namespace ScanService.Core.Tests.Batching;

/// <summary>A cancelled request's samples are dropped before their next stage: no work is spent on an answer nobody reads.</summary>
[Collection(BatchingCollection.Name)]
public sealed class CancellationTests(BatchingEngine fixture)
{
    [Fact]
    public async Task A_request_cancelled_after_stage_1_runs_no_further_stage()
    {
        var observer = new RecordingObserver();
        using var cancel = new CancellationTokenSource();
        // Cancels on the worker, between stage 1 and the next: the sample is queued for stage 2 when it is dropped.
        observer.OnStageCompleted = stage =>
        {
            if (stage == 1) cancel.Cancel();
        };
        await using var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions { MaxDelayMilliseconds = 0 }, [observer], [observer]);

        var answer = batcher.ClassifyAsync(fixture.Sample(0), 1, fixture.Engine.Resolve(new InferenceOptions { FullDepth = true }), cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer);
        await WaitUntil(() => batcher.DroppedSamples == 1);
        Assert.Equal([(1, 1)], observer.Stages);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task A_request_cancelled_while_it_waits_for_its_batch_never_runs_and_frees_its_place()
    {
        var observer = new RecordingObserver();
        await using var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions { MaxDelayMilliseconds = 1000, QueueCapacity = 2 }, [observer], [observer]);
        var plan = fixture.Engine.Resolve(InferenceOptions.Default);
        using var cancel = new CancellationTokenSource();

        var cancelled = batcher.ClassifyAsync(fixture.Samples(0, 2), 2, plan, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await WaitUntil(() => batcher.Pending == 0);
        Assert.Equal(2, batcher.DroppedSamples);
        Assert.Empty(observer.Stages);
        // The capacity it held is free again.
        Assert.False(batcher.ClassifyAsync(fixture.Samples(2, 2), 2, plan).IsFaulted);
    }

    [Fact]
    public async Task Requests_cancelled_one_after_the_other_during_one_wait_are_each_dropped_once()
    {
        var observer = new RecordingObserver();
        await using var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions { MaxDelayMilliseconds = 1000 }, [observer], [observer]);
        var plan = fixture.Engine.Resolve(InferenceOptions.Default);

        // Both leave while the worker waits for company for the first: each sweep must count only what it removes.
        for (var i = 0; i < 2; i++)
        {
            using var cancel = new CancellationTokenSource();
            var request = batcher.ClassifyAsync(fixture.Sample(i), 1, plan, cancel.Token);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
            await WaitUntil(() => batcher.DroppedSamples == i + 1);
            Assert.Equal(0, batcher.Pending);
        }
        Assert.Equal(2, batcher.DroppedSamples);
        Assert.Empty(observer.Stages);
        // The freed place is reported while the worker still waits, not after it.
        Assert.Equal(0, observer.Depths.Last());
    }

    [Fact]
    public async Task Cancelling_one_request_leaves_the_others_in_its_batch_answered()
    {
        using var cancel = new CancellationTokenSource();
        var observer = new RecordingObserver();
        observer.OnStageCompleted = stage =>
        {
            if (stage == 2) cancel.Cancel();
        };
        await using var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions { MaxBatchSize = 3, MaxDelayMilliseconds = 1000 }, [observer], [observer]);
        var plan = fixture.Engine.Resolve(new InferenceOptions { FullDepth = true });

        var kept = batcher.ClassifyAsync(fixture.Sample(0), 1, plan);
        var dropped = batcher.ClassifyAsync(fixture.Sample(1), 1, plan, cancel.Token);
        var alsoKept = batcher.ClassifyAsync(fixture.Sample(2), 1, plan);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        Assert.Equal(fixture.Engine.Run(fixture.Sample(0), 1, plan)[0].ClassIndex, (await kept)[0].ClassIndex);
        Assert.Equal(fixture.Engine.Run(fixture.Sample(2), 1, plan)[0].ClassIndex, (await alsoKept)[0].ClassIndex);
        Assert.Equal([(1, 3), (2, 3), (3, 2), (4, 2)], observer.Stages);
        Assert.Equal(1, batcher.DroppedSamples);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 30 s");
            await Task.Delay(5);
        }
    }
}
