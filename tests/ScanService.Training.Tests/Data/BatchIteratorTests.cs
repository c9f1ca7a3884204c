using ScanService.Core.Preprocessing;
using ScanService.Training.Data;

namespace ScanService.Training.Tests.Data;

public class BatchIteratorTests
{
    private static readonly ImageDataset Data = SyntheticData.Create(10, channels: 2, height: 2, width: 2);
    private static readonly ChannelNormalization Normalization = new([0.25f, 0.5f], [0.5f, 0.25f]);

    [Fact]
    public void Batch_holds_normalised_samples_and_labels_in_permutation_order()
    {
        var iterator = new BatchIterator(Data, Normalization, batchSize: 4);
        int[] order = [9, 2, 5, 0, 1, 3, 4, 6, 7, 8];
        var pixels = new float[iterator.ValuesPerBatch];
        var labels = new int[4];

        int count = iterator.Fill(order, 0, pixels, labels);

        Assert.Equal(4, count);
        Assert.Equal(new[] { Data.Labels[9], Data.Labels[2], Data.Labels[5], Data.Labels[0] }, labels);
        var second = Data.Sample(2);
        for (int p = 0; p < 8; p++)
        {
            int channel = p / 4;
            float expected = (second[p] / 255f - Normalization.Mean[channel]) / Normalization.Std[channel];
            Assert.Equal(expected, pixels[8 + p]);
        }
    }

    [Fact]
    public void Last_batch_is_partial_unless_dropped()
    {
        var order = Enumerable.Range(0, 10).ToArray();
        var pixels = new float[4 * Data.SampleSize];
        var labels = new int[4];

        var kept = new BatchIterator(Data, Normalization, 4).Batches(order, pixels, labels).ToList();
        var dropped = new BatchIterator(Data, Normalization, 4, dropPartialBatch: true).Batches(order, pixels, labels).ToList();

        Assert.Equal(new[] { 4, 4, 2 }, kept);
        Assert.Equal(new[] { 4, 4 }, dropped);
    }

    [Fact]
    public void An_epoch_visits_every_sample_once()
    {
        var iterator = new BatchIterator(Data, Normalization, 3);
        var order = BatchIterator.Permutation(Data.Count, new Random(5));
        var pixels = new float[iterator.ValuesPerBatch];
        var labels = new int[3];
        var seen = new List<int>();

        foreach (int count in iterator.Batches(order, pixels, labels))
        {
            seen.AddRange(labels[..count]);
        }

        Assert.Equal(order.Select(i => Data.Labels[i]), seen);
    }

    [Fact]
    public void Permutation_is_determined_by_the_seed()
    {
        var first = BatchIterator.Permutation(1000, new Random(11));

        Assert.Equal(first, BatchIterator.Permutation(1000, new Random(11)));
        Assert.NotEqual(first, BatchIterator.Permutation(1000, new Random(12)));
        Assert.Equal(Enumerable.Range(0, 1000), first.Order());
    }

    [Fact]
    public void Augmented_batches_repeat_with_the_same_seed()
    {
        var iterator = new BatchIterator(Data, Normalization, 5, new Augmentation(1, horizontalFlip: true));
        var order = Enumerable.Range(0, 10).ToArray();
        var first = new float[iterator.ValuesPerBatch];
        var second = new float[iterator.ValuesPerBatch];
        var labels = new int[5];

        iterator.Fill(order, 1, first, labels, new Random(3));
        iterator.Fill(order, 1, second, labels, new Random(3));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Augmentation_without_a_random_is_refused()
    {
        var iterator = new BatchIterator(Data, Normalization, 5, new Augmentation(1));

        Assert.Throws<ArgumentNullException>(() => iterator.Fill(new int[10], 0, new float[iterator.ValuesPerBatch], new int[5]));
    }

    [Fact]
    public void Normalisation_for_other_channels_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new BatchIterator(Data, new ChannelNormalization([0.5f], [0.5f]), 4));
    }
}
