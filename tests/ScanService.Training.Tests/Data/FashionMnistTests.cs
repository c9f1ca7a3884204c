using ScanService.Training.Data;

namespace ScanService.Training.Tests.Data;

/// <summary>Loads the real Fashion-MNIST files once for all tests of this class.</summary>
public sealed class FashionMnistFixture
{
    public TrainTestSets Sets { get; } = IdxDataset.LoadFashionMnist();
}

/// <summary>The real Fashion-MNIST files that Debian's dataset-fashion-mnist package installs.</summary>
public class FashionMnistTests(FashionMnistFixture fixture) : IClassFixture<FashionMnistFixture>
{
    private readonly ImageDataset _train = fixture.Sets.Train;
    private readonly ImageDataset _test = fixture.Sets.Test;

    [Fact]
    public void Has_60000_training_and_10000_test_images_of_28_by_28_grey()
    {
        Assert.Equal((60_000, 1, 28, 28), (_train.Count, _train.Channels, _train.Height, _train.Width));
        Assert.Equal((10_000, 1, 28, 28), (_test.Count, _test.Channels, _test.Height, _test.Width));
        Assert.Equal(60_000 * 784, _train.Pixels.Length);
    }

    [Fact]
    public void Every_class_is_balanced_with_labels_0_to_9()
    {
        Assert.All(_train.ClassCounts(), n => Assert.Equal(6_000, n));
        Assert.All(_test.ClassCounts(), n => Assert.Equal(1_000, n));
    }

    [Fact]
    public void Class_names_are_the_published_ones()
    {
        Assert.Equal("T-shirt/top", _train.ClassNames[0]);
        Assert.Equal("Ankle boot", _train.ClassNames[9]);
        Assert.Same(_train.ClassNames, _test.ClassNames);
    }

    [Fact]
    public void First_training_and_test_images_are_ankle_boots()
    {
        Assert.Equal(9, _train.Labels[0]);
        Assert.Equal(9, _test.Labels[0]);
    }

    [Fact]
    public void Training_pixel_statistics_match_the_published_ones()
    {
        var stats = NormalizationStatistics.Compute(_train);

        Assert.Equal(0.2860, stats.Mean[0], 3);
        Assert.Equal(0.3530, stats.Std[0], 3);
    }

    [Fact]
    public void Statistics_of_a_carved_training_split_stay_close_to_the_whole()
    {
        var split = ValidationSplit.Carve(_train, 5_000, seed: 1);

        var stats = NormalizationStatistics.Compute(split.Train);

        Assert.Equal(55_000, split.Train.Count);
        Assert.Equal(0.286, stats.Mean[0], 2);
    }

    [Fact]
    public void Images_are_light_objects_on_a_dark_background()
    {
        // Corners of every one of the first hundred images are background: black or nearly so.
        for (int i = 0; i < 100; i++)
        {
            var image = _train.Sample(i);
            Assert.True(image[0] < 16 && image[783] < 16, $"image {i} has a light corner");
        }
    }
}
