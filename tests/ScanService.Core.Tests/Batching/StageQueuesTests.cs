using ScanService.Core.Inference.Features;

namespace ScanService.Core.Tests.Batching;

/// <summary>Which stage the batcher runs next, on a clock the test sets (no engine, no threads).</summary>
public sealed class StageQueuesTests
{
    private const long Ms = 1_000_000; // ticks of the test's clock per millisecond
    private static readonly ExitPlan Plan = new(ExitMode.EarlyExit, [0.5f, 0.5f, 0.5f, 0f], 4, "test");

    private static QueuedSample Sample(long at) => new(new BatchRequest(1, Plan, at), 0, null, default(FeatureRow), at);

    private static StageQueues Queues(long deepDelay, long delay = 0, int maxBatch = 4)
    {
        return new StageQueues(4, maxBatch, delay, deepDelay);
    }

    [Fact]
    public void Without_a_deep_stage_delay_the_deepest_waiting_stage_runs_first()
    {
        var q = Queues(deepDelay: 0);
        q.Enqueue(0, Sample(0));
        q.Enqueue(2, Sample(0));
        Assert.Equal(2, q.Choose(0, drain: false, out _));
    }

    [Fact]
    public void With_a_deep_stage_delay_a_saturated_stage_1_runs_while_survivors_gather_until_their_delay_has_passed()
    {
        var q = Queues(deepDelay: 5 * Ms);
        q.Enqueue(1, Sample(0));
        for (var i = 0; i < 4; i++) q.Enqueue(0, Sample(0));

        // Stage 1 has a full batch queued and the survivor has waited less than 5 ms: stage 1 runs.
        Assert.Equal(0, q.Choose(4 * Ms, drain: false, out _));
        // Past its delay the survivor's stage is due, and deeper due stages go first.
        Assert.Equal(1, q.Choose(5 * Ms, drain: false, out _));
    }

    [Fact]
    public void A_deep_stage_delay_holds_no_survivor_while_stage_1_has_less_than_a_full_batch()
    {
        var q = Queues(deepDelay: 5 * Ms);
        q.Enqueue(2, Sample(0));
        for (var i = 0; i < 3; i++) q.Enqueue(0, Sample(0));

        // Three of four: holding the survivor would only shrink stage 1's next batch, so the deepest stage runs.
        Assert.Equal(2, q.Choose(1 * Ms, drain: false, out _));
        // The fourth arrives: now stage 1 is saturated and the survivor waits for company.
        q.Enqueue(0, Sample(1 * Ms));
        Assert.Equal(0, q.Choose(1 * Ms, drain: false, out _));
    }

    [Fact]
    public void A_deep_stage_never_waits_while_the_worker_would_idle_or_when_its_batch_is_full()
    {
        var idle = Queues(deepDelay: 1000 * Ms);
        idle.Enqueue(3, Sample(0));
        // Nothing for stage 1: waiting would only leave the cores idle.
        Assert.Equal(3, idle.Choose(1, drain: false, out _));

        var full = Queues(deepDelay: 1000 * Ms, maxBatch: 2);
        full.Enqueue(0, Sample(0));
        full.Enqueue(2, Sample(0));
        full.Enqueue(2, Sample(0));
        Assert.Equal(2, full.Choose(1, drain: false, out _));
    }

    [Fact]
    public void Closing_drains_every_stage_at_once()
    {
        var q = Queues(deepDelay: 1000 * Ms, delay: 1000 * Ms);
        q.Enqueue(0, Sample(0));
        q.Enqueue(1, Sample(0));
        Assert.Equal(1, q.Choose(1, drain: true, out _));
    }

    [Fact]
    public void The_deep_stage_delay_is_at_least_the_batching_delay()
    {
        var options = new BatchingOptions { MaxDelayMilliseconds = 3, DeepStageDelayMilliseconds = 1 };
        Assert.Equal(TimeSpan.FromMilliseconds(3), options.DeepStageDelay);
        var q = Queues(deepDelay: 1 * Ms, delay: 3 * Ms);
        q.Enqueue(0, Sample(0));
        q.Enqueue(1, Sample(0));
        // At 2 ms neither is due; the deep stage runs anyway (rule 2), since stage 1 is waiting for company.
        Assert.Equal(1, q.Choose(2 * Ms, drain: false, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchingOptions { DeepStageDelayMilliseconds = -1 }.Validate());
    }
}
