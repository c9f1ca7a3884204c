namespace ScanService.Core.Batching;

/// <summary>
/// A FIFO queue of samples per stage, and the policy that picks which stage the worker runs next:
/// <list type="number">
/// <item>the deepest stage whose queue is due (a full batch waits, or its oldest sample has waited the delay: the
/// batching delay for stage 1, the deep-stage delay for the others; a deeper stage is also due whenever stage 1 has
/// less than a full batch queued, since holding its survivors back then buys nothing: stage 1's batch only grows
/// while the deeper one runs), so that samples already paid for leave first and answers go out early;</item>
/// <item>otherwise the deepest non-empty stage past the first: deeper queues only grow when a shallower stage
/// runs, so while stage 1 waits for company they would wait for nothing and the cores would idle;</item>
/// <item>otherwise nothing until stage 1's oldest sample is due.</item>
/// </list>
/// So survivors gather over several stage-1 batches, each waiting at most about one batch time beyond the deep-stage
/// delay, only while stage 1 is saturated (a full batch queued); below that the deep-stage delay changes nothing.
/// Not thread-safe: the batcher holds its lock.
/// </summary>
internal sealed class StageQueues
{
    private readonly Queue<QueuedSample>[] _queues;
    private readonly int _maxBatchSize;
    private readonly long _maxDelayTicks;
    private readonly long _deepDelayTicks;

    /// <param name="deepDelayTicks">What a sample of stage 2 or deeper may wait while stage 1 has work; at least <paramref name="maxDelayTicks"/>.</param>
    public StageQueues(int stages, int maxBatchSize, long maxDelayTicks, long deepDelayTicks = 0)
    {
        _queues = Enumerable.Range(0, stages).Select(_ => new Queue<QueuedSample>()).ToArray();
        _maxBatchSize = maxBatchSize;
        _maxDelayTicks = maxDelayTicks;
        _deepDelayTicks = Math.Max(maxDelayTicks, deepDelayTicks);
    }

    public int Count(int stage) => _queues[stage].Count;

    public void Enqueue(int stage, QueuedSample sample) => _queues[stage].Enqueue(sample);

    /// <summary>
    /// The stage (0-based) to run now, or -1 with the Stopwatch timestamp at which to look again
    /// (<see cref="long.MaxValue"/>: when something arrives). <paramref name="drain"/> runs anything queued at once.
    /// </summary>
    public int Choose(long now, bool drain, out long wakeAt)
    {
        wakeAt = long.MaxValue;
        var stageOneSaturated = _queues[0].Count >= _maxBatchSize;
        for (var k = _queues.Length - 1; k >= 0; k--)
        {
            var queue = _queues[k];
            if (queue.Count == 0) continue;
            if (drain || queue.Count >= _maxBatchSize || (k > 0 && !stageOneSaturated)
                || now - queue.Peek().EnqueuedAt >= (k == 0 ? _maxDelayTicks : _deepDelayTicks)) return k;
        }
        for (var k = _queues.Length - 1; k >= 1; k--)
        {
            if (_queues[k].Count > 0) return k;
        }
        if (_queues[0].Count > 0) wakeAt = _queues[0].Peek().EnqueuedAt + _maxDelayTicks;
        return -1;
    }

    /// <summary>Moves up to <paramref name="max"/> of the oldest samples of <paramref name="stage"/> into <paramref name="batch"/>.</summary>
    public void Take(int stage, int max, List<QueuedSample> batch)
    {
        var queue = _queues[stage];
        while (batch.Count < max && queue.TryDequeue(out var sample)) batch.Add(sample);
    }

    /// <summary>Removes every sample of an abandoned request, in any stage, into <paramref name="removed"/>.</summary>
    public void RemoveAbandoned(List<QueuedSample> removed)
    {
        foreach (var queue in _queues)
        {
            var kept = queue.Count;
            foreach (var sample in queue)
            {
                if (sample.Request.Abandoned) kept--;
            }
            if (kept == queue.Count) continue;
            var count = queue.Count;
            for (var i = 0; i < count; i++)
            {
                var sample = queue.Dequeue();
                if (sample.Request.Abandoned) removed.Add(sample);
                else queue.Enqueue(sample);
            }
        }
    }
}
