using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Classifier;

/// <summary>
/// Told of every answer after it is given, with the preprocessed sample it was given for: metrics count exit
/// depths, and the agreement sampler reruns a few samples at full depth off the request's path.
/// Implementations must return at once.
/// </summary>
public interface IClassificationObserver
{
    void Answered(LoadedModel model, ExitPlan plan, ReadOnlyMemory<float> sample, Prediction prediction);
}
