using ScanService.Training.Data;

namespace ScanService.Training.Tests.Data;

public class NormalizationStatisticsTests
{
    [Fact]
    public void Mean_and_std_are_per_channel_over_all_pixels_scaled_to_unit_range()
    {
        // Two samples of 2 channels × 1×2: channel 0 holds 0 and 255 everywhere, channel 1 holds 51.
        byte[] pixels = [0, 255, 51, 51, 255, 0, 51, 51];
        var data = new ImageDataset(pixels, [0, 0], 2, 1, 2, ["only"]);

        var stats = NormalizationStatistics.Compute(data);

        Assert.Equal(0.5f, stats.Mean[0], 6);
        Assert.Equal(0.5f, stats.Std[0], 6);
        Assert.Equal(0.2f, stats.Mean[1], 6);
        Assert.Equal(1f, stats.Std[1]); // constant channel: no scaling rather than a division by zero
    }

    [Fact]
    public void Statistics_become_the_normalisation_the_service_applies()
    {
        byte[] pixels = [0, 255];
        var data = new ImageDataset(pixels, [0], 1, 1, 2, ["only"]);

        var normalization = NormalizationStatistics.Compute(data).ToNormalization();
        var values = new float[2];
        normalization.Apply(pixels, values);

        Assert.Equal(-1f, values[0], 6);
        Assert.Equal(1f, values[1], 6);
    }
}
