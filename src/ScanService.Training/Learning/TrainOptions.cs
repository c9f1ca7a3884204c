using ScanService.Training.Model;

namespace ScanService.Training.Learning;

public enum LearningRateSchedule
{
    /// <summary>×0.1 at 50 % of the epochs and ×0.1 again at 75 %.</summary>
    Step,
    /// <summary>Cosine decay to zero over the run: better for short runs.</summary>
    Cosine,
}

/// <summary>Everything that decides a run's result; saved in the run folder and checked on resume.</summary>
public sealed record TrainOptions
{
    public required ScanArchitecture Architecture { get; init; }
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.1;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;
    public int Seed { get; init; } = 42;
    public DistillationOptions Distillation { get; init; } = new();
    /// <summary>Zero padding of the random crop (0 turns cropping off).</summary>
    public int CropPadding { get; init; } = 2;
    public bool HorizontalFlip { get; init; } = true;
    /// <summary>Probability of random erasing per training sample (0: off, the default).</summary>
    public double RandomErasing { get; init; }
    /// <summary>Stop an epoch after this many steps (for smoke runs and tests); null for the whole split.</summary>
    public int? MaxStepsPerEpoch { get; init; }

    public double LearningRateAt(int epoch, int epochs)
    {
        if (Schedule == LearningRateSchedule.Cosine)
            return LearningRate * 0.5 * (1 + Math.Cos(Math.PI * epoch / epochs));
        var factor = epoch >= 0.75 * epochs ? 0.01 : epoch >= 0.5 * epochs ? 0.1 : 1.0;
        return LearningRate * factor;
    }

    public void Validate()
    {
        Architecture.Validate();
        if (Epochs < 1) throw new ArgumentException("epochs must be at least 1");
        if (BatchSize < 1) throw new ArgumentException("batch size must be at least 1");
        if (LearningRate <= 0) throw new ArgumentException("learning rate must be positive");
        if (Distillation.Alpha is < 0 or > 1) throw new ArgumentException("alpha must lie in [0, 1]");
        if (Distillation.Temperature <= 0) throw new ArgumentException("temperature must be positive");
        if (CropPadding < 0) throw new ArgumentException("crop padding cannot be negative");
        if (!(RandomErasing is >= 0 and <= 1)) throw new ArgumentException("the random erasing probability must lie in [0, 1]");
    }
}
