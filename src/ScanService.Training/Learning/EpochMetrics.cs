namespace ScanService.Training.Learning;

/// <summary>One line of the run's metrics.jsonl.</summary>
public sealed record EpochMetrics
{
    public required int Epoch { get; init; }
    public required double LearningRate { get; init; }
    public required double TrainLoss { get; init; }
    /// <summary>Cross-entropy of the deepest exit. This and the next three are the loss's terms as they enter it
    /// (weights and T² applied, summed over the shallow exits); they add up to <see cref="TrainLoss"/>.</summary>
    public double TrainDeepCrossEntropy { get; init; }
    /// <summary>(1-α) × cross-entropy of the shallow exits.</summary>
    public required double TrainCrossEntropy { get; init; }
    /// <summary>α·T² × KL divergence from the deepest exit.</summary>
    public required double TrainDistillation { get; init; }
    /// <summary>λ × squared distance of pooled features to the deepest exit's.</summary>
    public required double TrainHint { get; init; }
    /// <summary>Training accuracy of the deepest exit on augmented batches.</summary>
    public required double TrainAccuracy { get; init; }
    public required IReadOnlyList<double> ValidationAccuracy { get; init; }
    public double? ValidationEnsembleAccuracy { get; init; }
    public required double Seconds { get; init; }
    public required double ImagesPerSecond { get; init; }
    /// <summary>Where the training steps' time went (absent in metrics written before it was recorded).</summary>
    public StepSeconds? StepSeconds { get; init; }
    public long PeakWorkingSetBytes { get; init; }
}

/// <summary>Reported after every step, for a progress bar.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double Accuracy, double ImagesPerSecond);
