namespace ScanService.Core.Inference;

/// <summary>Receives what the engine does, for metrics; the engine knows nothing of how they are exported.</summary>
public interface IInferenceObserver
{
    /// <summary>A backbone stage ran on <paramref name="batchSize"/> samples.</summary>
    void StageCompleted(int stage, int batchSize, TimeSpan duration);
    /// <summary>An exit head (attention and classifier) ran on <paramref name="batchSize"/> samples.</summary>
    void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration);
}

/// <summary>Receives what the serving layer in front of the engine does (queue, batches, refusals), for metrics.</summary>
public interface IServingObserver
{
    void QueueDepthChanged(int depth);
    /// <summary>A batch of <paramref name="size"/> samples was formed for <paramref name="stage"/> (1-based).</summary>
    void BatchFormed(int stage, int size);
    /// <summary>How long a request waited before its first stage ran.</summary>
    void QueueWaited(TimeSpan wait);
    /// <summary>A request was refused at once because the queue was full.</summary>
    void Rejected();
}
