using ScanService.Api.Classifier;
using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>Counts every answer by the exit that gave it: the exit-depth histogram and the per-exit counters.</summary>
public sealed class ExitDepthObserver(ScanMetrics metrics) : IClassificationObserver
{
    public void Answered(LoadedModel model, ExitPlan plan, ReadOnlyMemory<float> sample, Prediction prediction) =>
        metrics.RecordAnswer(model, plan, prediction.Exit);
}
