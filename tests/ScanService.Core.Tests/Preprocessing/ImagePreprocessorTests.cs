
namespace ScanService.Core.Tests.Preprocessing;

public class ImagePreprocessorTests
{
    private static InputSpec Spec(ColorMode mode, int channels, float[] mean, float[] std, int height = 1, int width = 2) => new()
    {
        Channels = channels,
        Height = height,
        Width = width,
        ColorMode = mode,
        Mean = mean,
        Std = std,
    };

    [Fact]
    public void Rgb_values_are_scaled_to_unit_range_and_normalised_per_channel()
    {
        float[] mean = [0.5f, 0.4f, 0.3f];
        float[] std = [0.2f, 0.25f, 0.5f];
        var preprocessor = new ImagePreprocessor(Spec(ColorMode.Rgb, 3, mean, std));
        var png = EncodedImages.Png(2, 1, (x, _) => x == 0 ? new SKColor(0, 51, 255) : new SKColor(255, 102, 128));
        var values = new float[preprocessor.ValuesPerSample];

        preprocessor.Preprocess(png, values);

        float[] expected =
        [
            (0 / 255f - 0.5f) / 0.2f, (255 / 255f - 0.5f) / 0.2f,
            (51 / 255f - 0.4f) / 0.25f, (102 / 255f - 0.4f) / 0.25f,
            (255 / 255f - 0.3f) / 0.5f, (128 / 255f - 0.3f) / 0.5f,
        ];
        Assert.Equal(expected, values);
    }

    [Fact]
    public void Fashion_mnist_grey_statistics_map_the_mean_to_zero()
    {
        var preprocessor = new ImagePreprocessor(Spec(ColorMode.Grayscale, 1, [0.2f], [0.5f]));
        var png = EncodedImages.GreyPng(2, 1, (x, _) => x == 0 ? (byte)51 : (byte)0);
        var values = new float[2];

        preprocessor.Preprocess(png, values);

        Assert.Equal(0f, values[0], 6);
        Assert.Equal(-0.4f, values[1], 6);
    }

    [Fact]
    public void Decode_errors_pass_through_unchanged()
    {
        var preprocessor = new ImagePreprocessor(Spec(ColorMode.Grayscale, 1, [0.5f], [0.5f]));

        var error = Assert.Throws<ImageDecodeException>(() => preprocessor.Preprocess([], new float[2]));

        Assert.Equal(ImageDecodeError.Empty, error.Error);
    }

    [Fact]
    public void Destination_must_hold_one_sample()
    {
        var preprocessor = new ImagePreprocessor(Spec(ColorMode.Grayscale, 1, [0.5f], [0.5f]));

        Assert.Throws<ArgumentException>(() => preprocessor.Preprocess(EncodedImages.GreyPng(2, 1, (_, _) => 0), new float[3]));
    }

    [Fact]
    public void Spec_whose_channels_disagree_with_its_colour_mode_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(Spec(ColorMode.Rgb, 1, [0.5f], [0.5f])));
    }

    [Fact]
    public void Spec_with_one_mean_for_three_channels_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(Spec(ColorMode.Rgb, 3, [0.5f], [0.5f])));
    }

    [Fact]
    public void Zero_std_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new ChannelNormalization([0.5f], [0f]));
    }

    [Fact]
    public void Normalisation_of_raw_planes_matches_the_formula_for_every_byte()
    {
        var normalization = new ChannelNormalization([0.1f, 0.2f], [0.3f, 0.4f]);
        var planes = new byte[512];
        for (int i = 0; i < 512; i++) planes[i] = (byte)i;
        var values = new float[512];

        normalization.Apply(planes, values);

        for (int v = 0; v < 256; v++)
        {
            Assert.Equal((v / 255f - 0.1f) / 0.3f, values[v]);
            Assert.Equal((v / 255f - 0.2f) / 0.4f, values[256 + v]);
        }
    }
}
