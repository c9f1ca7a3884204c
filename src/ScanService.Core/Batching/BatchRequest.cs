using ScanService.Core.Inference;
using ScanService.Core.Inference.Features;

namespace ScanService.Core.Batching;

/// <summary>
/// One caller's request inside the batcher: its samples, plan and answers. Answers are written by the worker only;
/// cancellation may arrive from any thread and only marks the request abandoned.
/// </summary>
internal sealed class BatchRequest(int count, ExitPlan plan, long arrivedAt, System.Diagnostics.ActivityContext trace = default)
{
    /// <summary>The trace the request's stage and head spans belong under (none when it came without one).</summary>
    public System.Diagnostics.ActivityContext Trace => trace;

    private volatile bool _abandoned;
    private int _remaining = count;

    public int Count => Results.Length;
    public ExitPlan Plan => plan;
    /// <summary>Stopwatch timestamp of admission.</summary>
    public long ArrivedAt => arrivedAt;
    public Prediction[] Results { get; } = new Prediction[count];
    /// <summary>Whether one of its samples has been in a batch yet (the queue wait is reported once).</summary>
    public bool Started { get; set; }
    /// <summary>Cancelled or failed: its samples still queued are dropped before their next stage.</summary>
    public bool Abandoned => _abandoned;
    public CancellationTokenRegistration Registration { get; set; }

    // Continuations run on the thread pool, never inline on the batcher's worker.
    public TaskCompletionSource<Prediction[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Records one sample's answer; releases the caller once every sample has one.</summary>
    public void Answer(int index, Prediction prediction)
    {
        Results[index] = prediction;
        if (--_remaining > 0) return;
        // Unregister, not Dispose: Dispose would wait for a callback running on another thread.
        Registration.Unregister();
        Completion.TrySetResult(Results);
    }

    /// <summary>Marks the request cancelled; false when it had already finished or been abandoned.</summary>
    public bool Cancel(CancellationToken token)
    {
        if (_abandoned || !Completion.TrySetCanceled(token)) return false;
        _abandoned = true;
        return true;
    }

    public void Fail(Exception exception)
    {
        _abandoned = true;
        Registration.Unregister();
        Completion.TrySetException(exception);
    }
}

/// <summary>
/// One sample waiting for a stage: whose it is, where its input row lies (the request's pixels for stage 1, a
/// previous stage's output after that; the block is released when the sample has run or is dropped) and when it
/// joined this stage's queue.
/// </summary>
internal readonly record struct QueuedSample(BatchRequest Request, int Index, float[]? EnsembleSum, FeatureRow Input, long EnqueuedAt);
