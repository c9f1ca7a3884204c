using System.Collections.Concurrent;

namespace ScanService.Core.Tests.Batching;

/// <summary>Keeps what the batcher reports, in order; can run an action when a stage completes (on the worker).</summary>
public sealed class RecordingObserver : IServingObserver, IInferenceObserver
{
    public ConcurrentQueue<(int Stage, int Size)> Batches { get; } = new();
    public ConcurrentQueue<(int Stage, int Size)> Stages { get; } = new();
    public ConcurrentQueue<(int Exit, int Size)> Heads { get; } = new();
    public ConcurrentQueue<TimeSpan> Waits { get; } = new();
    public ConcurrentQueue<int> Depths { get; } = new();
    private int _rejected;

    public int Rejections => Volatile.Read(ref _rejected);

    /// <summary>Runs on the batcher's worker right after a stage ran, before its exit head.</summary>
    public Action<int>? OnStageCompleted { get; set; }

    /// <summary>Runs on the batcher's worker when a batch forms, before it runs.</summary>
    public Action<int, int>? OnBatchFormed { get; set; }

    public void QueueDepthChanged(int depth) => Depths.Enqueue(depth);

    public void BatchFormed(int stage, int size)
    {
        Batches.Enqueue((stage, size));
        OnBatchFormed?.Invoke(stage, size);
    }

    public void QueueWaited(TimeSpan wait) => Waits.Enqueue(wait);

    public void Rejected() => Interlocked.Increment(ref _rejected);

    public void StageCompleted(int stage, int batchSize, TimeSpan duration)
    {
        Stages.Enqueue((stage, batchSize));
        OnStageCompleted?.Invoke(stage);
    }

    public void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration) => Heads.Enqueue((exit, batchSize));
}
