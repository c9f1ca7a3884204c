using ScanService.Training.Data;

namespace ScanService.Training.Tests.Data;

public class ValidationSplitTests
{
    private static readonly ImageDataset Training = SyntheticData.Create(100);

    [Fact]
    public void Same_seed_gives_the_same_split()
    {
        var first = ValidationSplit.Carve(Training, 0.2, seed: 42);
        var second = ValidationSplit.Carve(Training, 0.2, seed: 42);

        Assert.Equal(first.ValidationIndices, second.ValidationIndices);
        Assert.Equal(first.Validation.Pixels, second.Validation.Pixels);
    }

    [Fact]
    public void Different_seeds_give_different_splits()
    {
        var first = ValidationSplit.Carve(Training, 0.2, seed: 1);
        var second = ValidationSplit.Carve(Training, 0.2, seed: 2);

        Assert.NotEqual(first.ValidationIndices, second.ValidationIndices);
    }

    [Fact]
    public void Parts_are_disjoint_and_together_are_the_whole_training_set()
    {
        var split = ValidationSplit.Carve(Training, 0.2, seed: 7);

        Assert.Empty(split.TrainIndices.Intersect(split.ValidationIndices));
        Assert.Equal(Enumerable.Range(0, 100), split.TrainIndices.Concat(split.ValidationIndices).Order());
        Assert.Equal((80, 20), (split.Train.Count, split.Validation.Count));
    }

    [Fact]
    public void Validation_is_a_shuffled_choice_not_the_tail()
    {
        var split = ValidationSplit.Carve(Training, 20, seed: 7);

        Assert.NotEqual(Enumerable.Range(80, 20), split.ValidationIndices);
    }

    [Fact]
    public void Each_part_carries_the_pixels_and_labels_of_its_indices_in_source_order()
    {
        var split = ValidationSplit.Carve(Training, 30, seed: 3);

        Assert.Equal(split.ValidationIndices.Order(), split.ValidationIndices);
        for (int i = 0; i < split.Validation.Count; i++)
        {
            int source = split.ValidationIndices[i];
            Assert.Equal(Training.Sample(source).ToArray(), split.Validation.Sample(i).ToArray());
            Assert.Equal(Training.Labels[source], split.Validation.Labels[i]);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void Count_that_leaves_a_part_empty_is_refused(int count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSplit.Carve(Training, count, seed: 0));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Fraction_outside_the_open_unit_interval_is_refused(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSplit.Carve(Training, fraction, seed: 0));
    }
}
