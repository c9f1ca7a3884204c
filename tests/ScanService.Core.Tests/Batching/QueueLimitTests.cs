
namespace ScanService.Core.Tests.Batching;

/// <summary>The batcher holds a bounded number of samples; past it a request is refused at once, not queued.</summary>
[Collection(BatchingCollection.Name)]
public sealed class QueueLimitTests(BatchingEngine fixture)
{
    // Nothing runs during the test: the delay is far away and the batch never fills.
    private static BatchingOptions Held(double delayMilliseconds = 1000) => new() { MaxBatchSize = 64, MaxDelayMilliseconds = delayMilliseconds, QueueCapacity = 3 };

    [Fact]
    public async Task A_request_past_the_capacity_fails_at_once_with_QueueFullException()
    {
        var observer = new RecordingObserver();
        var plan = fixture.Engine.Resolve(InferenceOptions.Default);
        Task<Prediction[]>[] admitted;
        await using (var batcher = new DynamicBatcher(fixture.Engine, Held(), [observer]))
        {
            admitted = [batcher.ClassifyAsync(fixture.Samples(0, 2), 2, plan), batcher.ClassifyAsync(fixture.Sample(2), 1, plan)];

            var refused = batcher.ClassifyAsync(fixture.Sample(3), 1, plan);

            Assert.True(refused.IsFaulted, "the refusal must not wait");
            var error = Assert.IsType<QueueFullException>(refused.Exception!.InnerException);
            Assert.Equal(3, error.Capacity);
            Assert.Equal(1, observer.Rejections);
            Assert.Equal(3, batcher.Pending);
            Assert.All(admitted, t => Assert.False(t.IsCompleted));
        }
        // Closing answers what was admitted.
        Assert.All(await Task.WhenAll(admitted), answers => Assert.All(answers, Assert.NotNull));
    }

    [Fact]
    public async Task A_request_larger_than_the_whole_capacity_still_runs_on_an_empty_batcher()
    {
        await using var batcher = new DynamicBatcher(fixture.Engine, Held(delayMilliseconds: 0));
        var answers = await batcher.ClassifyAsync(fixture.Samples(0, 5), 5, fixture.Engine.Resolve(InferenceOptions.Default));
        Assert.Equal(5, answers.Length);
    }

    [Fact]
    public async Task Capacity_frees_up_as_answers_leave()
    {
        await using var batcher = new DynamicBatcher(fixture.Engine, Held(delayMilliseconds: 0));
        var plan = fixture.Engine.Resolve(InferenceOptions.Default);
        for (var i = 0; i < 10; i++) await batcher.ClassifyAsync(fixture.Samples(i, 3), 3, plan);
        Assert.Equal(0, batcher.Pending);
    }
}
