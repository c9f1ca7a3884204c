using static ScanService.Core.Tests.Inference.EnginePlans;

namespace ScanService.Core.Tests.Batching;

/// <summary>Whatever the batches and regrouping, every caller gets exactly the answer the engine gives its samples alone.</summary>
[Collection(BatchingCollection.Name)]
public sealed class BatchedAnswerTests(BatchingEngine fixture)
{
    private readonly EarlyExitEngine _engine = fixture.Engine;

    private List<ExitPlan> Plans()
    {
        var plans = new List<ExitPlan> { fixture.MedianThresholds() };
        foreach (var point in _engine.Manifest.OperatingPoints.Select(p => p.Name).Append(null))
        {
            plans.Add(_engine.Resolve(new InferenceOptions { OperatingPoint = point }));
            plans.Add(_engine.Resolve(new InferenceOptions { OperatingPoint = point, MaxExit = 2 }));
        }
        for (var k = 1; k <= _engine.ExitCount; k++)
        {
            plans.Add(_engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = k }));
            plans.Add(_engine.Resolve(new InferenceOptions { Ensemble = true, MaxExit = k }));
        }
        return plans;
    }

    [Fact]
    public async Task Concurrent_requests_with_mixed_options_get_the_engines_answers_for_each_sample_alone()
    {
        const int requests = 300, callers = 16;
        var plans = Plans();
        var observer = new RecordingObserver();
        await using var batcher = new DynamicBatcher(_engine, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 2 }, [observer], [observer]);
        var random = new Random(7);
        var work = Enumerable.Range(0, requests)
            .Select(_ => (First: random.Next(BatchingEngine.Images - 4), Count: random.Next(5) == 0 ? random.Next(2, 5) : 1, Plan: plans[random.Next(plans.Count)]))
            .ToArray();

        var answers = new Prediction[requests][];
        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            for (var r = caller; r < requests; r += callers)
                answers[r] = await batcher.ClassifyAsync(fixture.Samples(work[r].First, work[r].Count), work[r].Count, work[r].Plan);
        })));

        for (var r = 0; r < requests; r++)
        {
            Assert.Equal(work[r].Count, answers[r].Length);
            for (var i = 0; i < work[r].Count; i++)
                AssertSame(_engine.Run(fixture.Sample(work[r].First + i), 1, work[r].Plan)[0], answers[r][i]);
        }
        Assert.Equal(0, batcher.Pending);
        Assert.Contains(answers.SelectMany(a => a), p => p.Exit is 2 or 3);
        Assert.Contains(observer.Batches, b => b.Size > 1);
    }

    [Fact]
    public async Task Samples_of_different_plans_share_a_stage_batch_and_each_head_runs_only_on_the_rows_that_need_it()
    {
        var observer = new RecordingObserver();
        // A delay far beyond the test: only a full batch starts the stage.
        await using var batcher = new DynamicBatcher(_engine, new BatchingOptions { MaxBatchSize = 4, MaxDelayMilliseconds = 1000 }, [observer], [observer]);
        var fullDepth = _engine.Resolve(new InferenceOptions { FullDepth = true });
        var exitAtOne = _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 1 });
        var ensemble = _engine.Resolve(new InferenceOptions { Ensemble = true, MaxExit = 2 });
        var plans = new[] { fullDepth, exitAtOne, fullDepth, ensemble };

        var answers = await Task.WhenAll(plans.Select((plan, i) => batcher.ClassifyAsync(fixture.Sample(i), 1, plan)));

        for (var i = 0; i < plans.Length; i++) AssertSame(_engine.Run(fixture.Sample(i), 1, plans[i])[0], answers[i][0]);
        Assert.Equal([(1, 4), (2, 3), (3, 2), (4, 2)], observer.Batches);
        // Exit 1's head: the capped sample and the ensemble; exit 2's: the ensemble; exit 4's: the two at full depth.
        Assert.Equal([(1, 2), (2, 1), (4, 2)], observer.Heads);
    }

    [Fact]
    public async Task Survivors_of_several_batches_are_regrouped_into_a_fuller_batch_for_the_next_stage()
    {
        var observer = new RecordingObserver();
        using var firstBatchFormed = new ManualResetEventSlim();
        using var releaseFirstBatch = new ManualResetEventSlim();
        observer.OnBatchFormed = (stage, _) =>
        {
            if (firstBatchFormed.IsSet) return;
            firstBatchFormed.Set();
            releaseFirstBatch.Wait();
        };
        await using var batcher = new DynamicBatcher(_engine, new BatchingOptions { MaxBatchSize = 4, MaxDelayMilliseconds = 1000 }, [observer], [observer]);
        var leaves = _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 1 });
        var goesOn = _engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 2 });
        Task<Prediction[]> Submit(int image) => batcher.ClassifyAsync(fixture.Sample(image), 1, image % 2 == 0 ? leaves : goesOn);

        var first = Enumerable.Range(0, 4).Select(Submit).ToList();
        Assert.True(firstBatchFormed.Wait(TimeSpan.FromSeconds(30)), "the first full batch should form");
        // While the worker holds the first batch, a second one queues up behind it.
        var second = Enumerable.Range(4, 4).Select(Submit).ToList();
        releaseFirstBatch.Set();
        await Task.WhenAll(first.Concat(second));

        // Two stage-1 batches each leave 2 survivors; stage 2 runs them as one batch of 4, not two of 2.
        Assert.Equal([(1, 4), (1, 4), (2, 4)], observer.Batches);
    }
}
