using ScanService.Core.Inference;

namespace ScanService.Api.Classifier;

/// <summary>Every registered <see cref="IInferenceObserver"/> as the one the engine takes when it runs without the batcher.</summary>
internal sealed class InferenceObservers(IInferenceObserver[] observers) : IInferenceObserver
{
    public static IInferenceObserver? Combine(IEnumerable<IInferenceObserver> observers) => observers.ToArray() switch
    {
        [] => null,
        [var one] => one,
        var many => new InferenceObservers(many),
    };

    public void StageCompleted(int stage, int batchSize, TimeSpan duration)
    {
        foreach (var observer in observers) observer.StageCompleted(stage, batchSize, duration);
    }

    public void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration)
    {
        foreach (var observer in observers) observer.ExitHeadCompleted(exit, batchSize, duration);
    }
}
