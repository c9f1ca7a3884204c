using static ScanService.Core.Tests.Preprocessing.ImageDecoderFormatTests;

namespace ScanService.Core.Tests.Preprocessing;

public class ImageDecoderResizeTests
{
    private static readonly ImageDecoder Decoder = new();

    // 40 wide, 20 high: left half red, right half blue.
    private static readonly byte[] WideRedBlue =
        EncodedImages.Png(40, 20, (x, _) => x < 20 ? new SKColor(255, 0, 0) : new SKColor(0, 0, 255));

    [Fact]
    public void Stretch_fills_the_whole_target_and_keeps_left_and_right()
    {
        var pixels = Decoder.Decode(WideRedBlue, new DecodeTarget(ColorMode.Rgb, 10, 10, ResizeMode.Stretch));

        for (int y = 0; y < 10; y++)
        {
            var red = pixels.AsSpan(y * 10, 10);
            var blue = pixels.AsSpan(200 + y * 10, 10);
            AssertAll(red[..4], 255, tolerance: 1);
            AssertAll(blue[..4], 0, tolerance: 1);
            AssertAll(red[6..], 0, tolerance: 1);
            AssertAll(blue[6..], 255, tolerance: 1);
        }
    }

    [Fact]
    public void Fit_of_a_wide_image_keeps_its_aspect_and_pads_above_and_below_with_zero()
    {
        var white = EncodedImages.Png(40, 20, (_, _) => SKColors.White);

        var pixels = Decoder.Decode(white, new DecodeTarget(ColorMode.Grayscale, 10, 10, ResizeMode.Fit));

        // 40×20 scaled by 1/4 is 10×5, centred: rows 2..6 hold the image.
        AssertAll(pixels.AsSpan(0, 20), 0, tolerance: 0);
        AssertAll(pixels.AsSpan(20, 50), 255, tolerance: 1);
        AssertAll(pixels.AsSpan(70, 30), 0, tolerance: 0);
    }

    [Fact]
    public void Fit_of_a_tall_image_pads_left_and_right_with_zero()
    {
        var tall = EncodedImages.Png(20, 40, (_, _) => SKColors.White);

        var pixels = Decoder.Decode(tall, new DecodeTarget(ColorMode.Grayscale, 10, 10, ResizeMode.Fit));

        for (int y = 0; y < 10; y++)
        {
            var row = pixels.AsSpan(y * 10, 10);
            AssertAll(row[..2], 0, tolerance: 0);
            AssertAll(row[2..7], 255, tolerance: 1);
            AssertAll(row[7..], 0, tolerance: 0);
        }
    }

    [Fact]
    public void Fit_keeps_left_and_right_of_a_wide_image()
    {
        var pixels = Decoder.Decode(WideRedBlue, new DecodeTarget(ColorMode.Rgb, 10, 10, ResizeMode.Fit));

        var red = pixels.AsSpan(0, 100);
        var blue = pixels.AsSpan(200, 100);
        for (int y = 2; y <= 6; y++)
        {
            AssertAll(red.Slice(y * 10, 4), 255, tolerance: 1);
            AssertAll(blue.Slice(y * 10 + 6, 4), 255, tolerance: 1);
        }
    }

    [Fact]
    public void Fit_upscales_a_small_image()
    {
        var small = EncodedImages.Png(2, 1, (_, _) => SKColors.White);

        var pixels = Decoder.Decode(small, new DecodeTarget(ColorMode.Grayscale, 8, 8, ResizeMode.Fit));

        AssertAll(pixels.AsSpan(0, 16), 0, tolerance: 0);
        AssertAll(pixels.AsSpan(16, 32), 255, tolerance: 1);
        AssertAll(pixels.AsSpan(48, 16), 0, tolerance: 0);
    }

    [Fact]
    public void Invert_flips_the_image_but_not_the_padding()
    {
        var grey = EncodedImages.GreyPng(40, 20, (_, _) => 55);

        var pixels = Decoder.Decode(grey, new DecodeTarget(ColorMode.Grayscale, 10, 10, ResizeMode.Fit, invert: true));

        AssertAll(pixels.AsSpan(0, 20), 0, tolerance: 0);
        AssertAll(pixels.AsSpan(20, 50), 200, tolerance: 1);
        AssertAll(pixels.AsSpan(70, 30), 0, tolerance: 0);
    }

    [Fact]
    public void A_large_downscale_averages_rather_than_samples()
    {
        // A one-pixel checkerboard: point sampling would land on all-black or all-white; averaging gives grey.
        var checkerboard = EncodedImages.GreyPng(256, 256, (x, y) => (x + y) % 2 == 0 ? (byte)0 : (byte)255);

        var pixels = Decoder.Decode(checkerboard, new DecodeTarget(ColorMode.Grayscale, 8, 8));

        AssertAll(pixels, 128, tolerance: 20);
    }
}
