namespace ScanService.Training.Training;

/// <summary>One line of the run's metrics.jsonl.</summary>
public sealed record EpochMetrics
{
    public required int Epoch { get; init; }
    public required double LearningRate { get; init; }
    public required double TrainLoss { get; init; }
    public required double TrainCrossEntropy { get; init; }
    public required double TrainDistillation { get; init; }
    public required double TrainHint { get; init; }
    /// <summary>Training accuracy of the deepest exit on augmented batches.</summary>
    public required double TrainAccuracy { get; init; }
    public required IReadOnlyList<double> ValidationAccuracy { get; init; }
    public double? ValidationEnsembleAccuracy { get; init; }
    public required double Seconds { get; init; }
    public required double ImagesPerSecond { get; init; }
    public long PeakWorkingSetBytes { get; init; }
}

/// <summary>Reported after every step, for a progress bar.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double Accuracy, double ImagesPerSecond);
