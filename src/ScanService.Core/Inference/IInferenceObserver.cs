namespace ScanService.Core.Inference;

/// <summary>Receives what the engine does, for metrics; the engine knows nothing of how they are exported.</summary>
public interface IInferenceObserver
{
    /// <summary>A backbone stage ran on <paramref name="batchSize"/> samples.</summary>
    void StageCompleted(int stage, int batchSize, TimeSpan duration);
    /// <summary>An exit head (attention and classifier) ran on <paramref name="batchSize"/> samples.</summary>
    void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration);
}
