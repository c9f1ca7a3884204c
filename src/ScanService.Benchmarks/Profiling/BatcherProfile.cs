using System.Diagnostics;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks.Profiling;

/// <summary>
/// Where the dynamic batcher's worker spends a load: every batch formed per stage and its size, every stage and
/// head run and its time, every request's wait for its first stage. Fed by the batcher's observer calls (which the
/// worker makes; <see cref="QueueWaited"/> too), so it needs no lock beyond the one guarding a snapshot.
/// </summary>
public sealed class BatcherProfile(int stages, int maxBatchSize) : IServingObserver, IInferenceObserver
{
    private readonly Lock _gate = new();
    private readonly long[] _batches = new long[stages];
    private readonly long[] _rows = new long[stages];
    private readonly long[][] _sizes = Enumerable.Range(0, stages).Select(_ => new long[maxBatchSize + 1]).ToArray();
    private readonly double[] _stageMs = new double[stages];
    private readonly double[] _headMs = new double[stages];
    private readonly long[] _headRows = new long[stages];
    private readonly List<double> _waitsMs = [];
    private long _started = Stopwatch.GetTimestamp();

    public void Reset()
    {
        lock (_gate)
        {
            Array.Clear(_batches);
            Array.Clear(_rows);
            foreach (var s in _sizes) Array.Clear(s);
            Array.Clear(_stageMs);
            Array.Clear(_headMs);
            Array.Clear(_headRows);
            _waitsMs.Clear();
            _started = Stopwatch.GetTimestamp();
        }
    }

    public void QueueDepthChanged(int depth) { }
    public void Rejected() { }

    public void BatchFormed(int stage, int size)
    {
        lock (_gate)
        {
            _batches[stage - 1]++;
            _rows[stage - 1] += size;
            _sizes[stage - 1][Math.Min(size, _sizes[stage - 1].Length - 1)]++;
        }
    }

    public void QueueWaited(TimeSpan wait)
    {
        lock (_gate) _waitsMs.Add(wait.TotalMilliseconds);
    }

    public void StageCompleted(int stage, int batchSize, TimeSpan duration)
    {
        lock (_gate) _stageMs[stage - 1] += duration.TotalMilliseconds;
    }

    public void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration)
    {
        lock (_gate)
        {
            _headMs[exit - 1] += duration.TotalMilliseconds;
            _headRows[exit - 1] += batchSize;
        }
    }

    public ProfileSnapshot Snapshot(int images)
    {
        lock (_gate)
        {
            var wall = Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
            var stagesOut = Enumerable.Range(0, _batches.Length).Select(k => new StageProfile(
                k + 1, _batches[k], _rows[k], _stageMs[k], _headRows[k], _headMs[k],
                Buckets(_sizes[k]))).ToArray();
            var waits = _waitsMs.Order().ToArray();
            return new ProfileSnapshot(images, wall, stagesOut, waits.Length == 0 ? 0 : waits.Average(), Percentiles.NearestRank(waits, 0.99));
        }
    }

    /// <summary>Batches of 1, 2–7, 8–15, 16–31 and the largest size and above.</summary>
    private static long[] Buckets(long[] sizes)
    {
        long Sum(int from, int to) => sizes.Skip(from).Take(Math.Max(0, Math.Min(to, sizes.Length - 1) - from + 1)).Sum();
        var max = sizes.Length - 1;
        return [Sum(1, 1), Sum(2, 7), Sum(8, 15), Sum(16, Math.Min(31, max - 1)), sizes[max]];
    }
}

/// <param name="SizeBuckets">Batches of 1, 2–7, 8–15, 16 to one below the largest, the largest.</param>
public sealed record StageProfile(int Stage, long Batches, long Rows, double StageMs, long HeadRows, double HeadMs, long[] SizeBuckets)
{
    public double MeanBatch => Batches == 0 ? 0 : (double)Rows / Batches;
}

public sealed record ProfileSnapshot(int Images, double WallMs, IReadOnlyList<StageProfile> Stages, double MeanQueueWaitMs, double P99QueueWaitMs)
{
    /// <summary>Wall time the worker spent in stage and head runs (gathering the rows of a regrouped batch included).</summary>
    public double RunMs => Stages.Sum(s => s.StageMs + s.HeadMs);
    public double ImagesPerSecond => Images / (WallMs / 1000);
}
