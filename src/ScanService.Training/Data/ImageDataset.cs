namespace ScanService.Training.Data;

/// <summary>
/// Labelled images held in memory as raw bytes: <see cref="Pixels"/> is N×C×H×W uint8, channel-major per
/// sample, the layout the decoder writes and the network reads. Plain arrays, no tensors, so loaders,
/// splits and augmentation can be tested without TorchSharp.
/// </summary>
public sealed class ImageDataset
{
    public ImageDataset(byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (classNames.Count == 0) throw new ArgumentException("A dataset needs at least one class.", nameof(classNames));
        int sampleSize = channels * height * width;
        if ((long)labels.Length * sampleSize != pixels.Length)
        {
            throw new ArgumentException(
                $"{pixels.Length} pixel bytes do not hold {labels.Length} samples of {channels}x{height}x{width}.", nameof(pixels));
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
            {
                throw new ArgumentException($"Label {labels[i]} of sample {i} is outside 0..{classNames.Count - 1}.", nameof(labels));
            }
        }

        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    public byte[] Pixels { get; }
    public int[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public int Count => Labels.Length;

    /// <summary>Bytes per sample: C×H×W.</summary>
    public int SampleSize => Channels * Height * Width;

    public ReadOnlySpan<byte> Sample(int index) => Pixels.AsSpan(checked(index * SampleSize), SampleSize);

    /// <summary>A new dataset holding copies of the given samples, in the given order.</summary>
    public ImageDataset Subset(ReadOnlySpan<int> indices)
    {
        var pixels = new byte[(long)indices.Length * SampleSize];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Sample(indices[i]).CopyTo(pixels.AsSpan(i * SampleSize, SampleSize));
            labels[i] = Labels[indices[i]];
        }
        return new ImageDataset(pixels, labels, Channels, Height, Width, ClassNames);
    }

    /// <summary>How many samples each class has, by label.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassNames.Count];
        foreach (int label in Labels) counts[label]++;
        return counts;
    }
}
