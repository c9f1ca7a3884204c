
namespace ScanService.Core.Tests.Batching;

/// <summary>Closing the batcher answers what it took and refuses what comes after.</summary>
[Collection(BatchingCollection.Name)]
public sealed class BatcherLifetimeTests(BatchingEngine fixture)
{
    [Fact]
    public async Task Dispose_answers_every_admitted_request_before_it_returns()
    {
        var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions { MaxBatchSize = 64, MaxDelayMilliseconds = 1000 });
        var plan = fixture.Engine.Resolve(new InferenceOptions { FullDepth = true });
        var waiting = Enumerable.Range(0, 5).Select(i => batcher.ClassifyAsync(fixture.Sample(i), 1, plan)).ToList();

        batcher.Dispose();

        Assert.All(waiting, t => Assert.True(t.IsCompletedSuccessfully));
        var answers = await Task.WhenAll(waiting);
        for (var i = 0; i < answers.Length; i++) Assert.Equal(fixture.Engine.Run(fixture.Sample(i), 1, plan)[0].ClassIndex, answers[i][0].ClassIndex);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.ClassifyAsync(fixture.Sample(0), 1, plan));
    }

    [Fact]
    public async Task A_plan_of_another_model_is_refused()
    {
        await using var batcher = new DynamicBatcher(fixture.Engine, new BatchingOptions());
        var tooDeep = new ExitPlan(ExitMode.FullDepth, [1f, 1f, 1f, 1f, 1f], fixture.Engine.ExitCount + 1, null);
        Assert.Throws<ArgumentException>(() => { _ = batcher.ClassifyAsync(fixture.Sample(0), 1, tooDeep); });
    }
}
