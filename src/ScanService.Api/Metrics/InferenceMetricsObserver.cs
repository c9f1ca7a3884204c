using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>Records how long each backbone stage and exit head took, and on how many samples the stages ran.</summary>
public sealed class InferenceMetricsObserver(ScanMetrics metrics) : IInferenceObserver
{
    public void StageCompleted(int stage, int batchSize, TimeSpan duration) => metrics.RecordStage(stage, batchSize, duration);

    public void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration) => metrics.RecordExitHead(exit, duration);
}
