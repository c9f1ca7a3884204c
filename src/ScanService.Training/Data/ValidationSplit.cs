namespace ScanService.Training.Data;

/// <summary>
/// Carves a validation split out of the training set with a seeded shuffle, so that thresholds, checkpoints
/// and hyper-parameters are chosen on data the model did not train on, and never on the test set.
/// The same seed and size give the same split on every run.
/// </summary>
public static class ValidationSplit
{
    /// <summary>Holds out a fraction (0 &lt; fraction &lt; 1) of <paramref name="training"/>, rounded to whole samples.</summary>
    public static TrainValidationSplit Carve(ImageDataset training, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (!(fraction > 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must be between 0 and 1, exclusive.");
        }
        int count = Math.Clamp((int)Math.Round(training.Count * fraction), 1, Math.Max(1, training.Count - 1));
        return Carve(training, count, seed);
    }

    /// <summary>Holds out <paramref name="count"/> samples of <paramref name="training"/>.</summary>
    public static TrainValidationSplit Carve(ImageDataset training, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (count <= 0 || count >= training.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"The validation split must hold at least one sample and leave at least one of {training.Count} for training.");
        }

        // System.Random with a seed runs the same algorithm on every .NET version and platform.
        var order = BatchIterator.Permutation(training.Count, new Random(seed));
        var validation = order[..count];
        var train = order[count..];
        // Both parts keep the source order; the shuffle only decides membership.
        Array.Sort(validation);
        Array.Sort(train);
        return new TrainValidationSplit(training.Subset(train), training.Subset(validation), train, validation);
    }
}

/// <summary>A training set split in two; the indices refer to the set before the split.</summary>
public sealed record TrainValidationSplit(ImageDataset Train, ImageDataset Validation, int[] TrainIndices, int[] ValidationIndices);
