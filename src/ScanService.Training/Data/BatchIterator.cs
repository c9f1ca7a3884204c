using System.Buffers;
using ScanService.Core.Preprocessing;

namespace ScanService.Training.Data;

/// <summary>
/// Walks a dataset in the order of a permutation and fills plain batch buffers: normalised floats
/// (N×C×H×W) and labels. The training loop turns the filled part into tensors. Thread-safe.
/// </summary>
public sealed class BatchIterator
{
    public BatchIterator(ImageDataset data, ChannelNormalization normalization, int batchSize, Augmentation? augmentation = null, bool dropPartialBatch = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (normalization.Channels != data.Channels)
        {
            throw new ArgumentException($"Normalisation has {normalization.Channels} channel(s); the data has {data.Channels}.", nameof(normalization));
        }
        Data = data;
        Normalization = normalization;
        BatchSize = batchSize;
        Augmentation = augmentation ?? Augmentation.None;
        DropPartialBatch = dropPartialBatch;
    }

    public ImageDataset Data { get; }
    public ChannelNormalization Normalization { get; }
    public int BatchSize { get; }
    public Augmentation Augmentation { get; }
    /// <summary>Whether a last batch smaller than <see cref="BatchSize"/> is skipped (batch norm statistics of a handful of samples are noise).</summary>
    public bool DropPartialBatch { get; }

    /// <summary>Length of the float buffer a batch needs.</summary>
    public int ValuesPerBatch => BatchSize * Data.SampleSize;

    /// <summary>A uniformly random order of 0..count-1 (Fisher–Yates), determined by <paramref name="random"/>'s seed.</summary>
    public static int[] Permutation(int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Batches an order of <paramref name="sampleCount"/> samples makes.</summary>
    public int BatchCount(int sampleCount) =>
        DropPartialBatch ? sampleCount / BatchSize : (sampleCount + BatchSize - 1) / BatchSize;

    /// <summary>
    /// Fills batch <paramref name="batchIndex"/> of <paramref name="order"/> into the front of the buffers
    /// and returns how many samples it holds (fewer than <see cref="BatchSize"/> only for a last, partial batch).
    /// </summary>
    /// <param name="random">Drives augmentation; required unless the augmentation is the identity.</param>
    public int Fill(ReadOnlySpan<int> order, int batchIndex, Span<float> pixels, Span<int> labels, Random? random = null)
    {
        if ((uint)batchIndex >= (uint)BatchCount(order.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex, $"The order makes {BatchCount(order.Length)} batches.");
        }
        if (pixels.Length < ValuesPerBatch || labels.Length < BatchSize)
        {
            throw new ArgumentException($"A batch needs {ValuesPerBatch} floats and {BatchSize} labels.");
        }
        if (!Augmentation.IsIdentity && random is null)
        {
            throw new ArgumentNullException(nameof(random), "Augmentation needs a seeded Random.");
        }

        int start = batchIndex * BatchSize;
        int count = Math.Min(BatchSize, order.Length - start);
        int sampleSize = Data.SampleSize;
        byte[]? scratch = Augmentation.IsIdentity ? null : ArrayPool<byte>.Shared.Rent(sampleSize);
        try
        {
            for (int i = 0; i < count; i++)
            {
                int index = order[start + i];
                ReadOnlySpan<byte> sample = Data.Sample(index);
                if (scratch is not null)
                {
                    var augmented = scratch.AsSpan(0, sampleSize);
                    Augmentation.Apply(sample, augmented, Data.Channels, Data.Height, Data.Width, random!);
                    sample = augmented;
                }
                Normalization.Apply(sample, pixels.Slice(i * sampleSize, sampleSize));
                labels[i] = Data.Labels[index];
            }
        }
        finally
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
        }
        return count;
    }

    /// <summary>
    /// One epoch over <paramref name="order"/>: before each step the buffers hold the next batch, and the
    /// value is how many samples it has.
    /// </summary>
    public IEnumerable<int> Batches(int[] order, float[] pixels, int[] labels, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        int batches = BatchCount(order.Length);
        for (int b = 0; b < batches; b++)
        {
            yield return Fill(order, b, pixels, labels, random);
        }
    }
}
