
namespace ScanService.Core.Tests.Preprocessing;

public class ImageDecoderFormatTests
{
    private static readonly ImageDecoder Decoder = new();

    // A 3×2 image whose six pixels all differ, so any swap of axes or channels shows.
    private static readonly SKColor[,] Six =
    {
        { new(255, 0, 0), new(0, 255, 0), new(0, 0, 255) },
        { new(10, 20, 30), new(200, 150, 100), new(255, 255, 255) },
    };

    private static SKColor SixAt(int x, int y) => Six[y, x];

    private static byte[] SixAsPlanes()
    {
        var planes = new byte[3 * 6];
        for (int y = 0; y < 2; y++)
        {
            for (int x = 0; x < 3; x++)
            {
                planes[y * 3 + x] = Six[y, x].Red;
                planes[6 + y * 3 + x] = Six[y, x].Green;
                planes[12 + y * 3 + x] = Six[y, x].Blue;
            }
        }
        return planes;
    }

    private static readonly DecodeTarget RgbThreeByTwo = new(ColorMode.Rgb, height: 2, width: 3);

    [Fact]
    public void Png_pixels_come_back_exactly_as_red_green_blue_planes()
    {
        var pixels = Decoder.Decode(EncodedImages.Png(3, 2, SixAt), RgbThreeByTwo);

        Assert.Equal(SixAsPlanes(), pixels);
    }

    [Fact]
    public void Lossless_webp_pixels_come_back_exactly()
    {
        var pixels = Decoder.Decode(EncodedImages.LosslessWebp(3, 2, SixAt), RgbThreeByTwo);

        Assert.Equal(SixAsPlanes(), pixels);
    }

    [Fact]
    public void Bmp_written_by_hand_with_bottom_up_padded_rows_comes_back_exactly()
    {
        var pixels = Decoder.Decode(BitmapFiles.Bmp24(3, 2, SixAt), RgbThreeByTwo);

        Assert.Equal(SixAsPlanes(), pixels);
    }

    [Fact]
    public void Jpeg_of_flat_colour_comes_back_within_compression_error()
    {
        var jpeg = EncodedImages.Jpeg(16, 16, (_, _) => new SKColor(180, 90, 40));

        var pixels = Decoder.Decode(jpeg, new DecodeTarget(ColorMode.Rgb, 16, 16));

        AssertAll(pixels.AsSpan(0, 256), 180, tolerance: 3);
        AssertAll(pixels.AsSpan(256, 256), 90, tolerance: 3);
        AssertAll(pixels.AsSpan(512, 256), 40, tolerance: 3);
    }

    [Fact]
    public void Gif_decodes_its_first_frame_only()
    {
        SKColor[] palette = [SKColors.Black, new(255, 0, 0), new(0, 0, 255), SKColors.White];
        var gif = BitmapFiles.Gif(2, 2, palette, [0, 1, 2, 3], [3, 3, 3, 3]);

        var pixels = Decoder.Decode(gif, new DecodeTarget(ColorMode.Rgb, 2, 2));

        byte[] expected =
        [
            0, 255, 0, 255, // red
            0, 0, 0, 255, // green
            0, 0, 255, 255, // blue
        ];
        Assert.Equal(expected, pixels);
    }

    [Fact]
    public void Decoding_reports_format_and_size()
    {
        var info = Decoder.Decode(BitmapFiles.Bmp24(3, 2, SixAt), RgbThreeByTwo, new byte[18]);

        Assert.Equal(new DecodedImageInfo(ImageFormat.Bmp, 3, 2), info);
    }

    [Fact]
    public void Grey_is_the_BT601_luma_of_rgb()
    {
        var png = EncodedImages.Png(5, 1, (x, _) => x switch
        {
            0 => new SKColor(255, 0, 0),
            1 => new SKColor(0, 255, 0),
            2 => new SKColor(0, 0, 255),
            3 => new SKColor(100, 100, 100),
            _ => new SKColor(255, 255, 255),
        });

        var pixels = Decoder.Decode(png, new DecodeTarget(ColorMode.Grayscale, 1, 5));

        // round(0.299·255) = 76, round(0.587·255) = 150, round(0.114·255) = 29; grey stays itself.
        Assert.Equal(new byte[] { 76, 150, 29, 100, 255 }, pixels);
    }

    [Fact]
    public void Grey_png_read_as_rgb_repeats_its_value_in_every_channel()
    {
        var png = EncodedImages.GreyPng(2, 1, (x, _) => x == 0 ? (byte)17 : (byte)230);

        var pixels = Decoder.Decode(png, new DecodeTarget(ColorMode.Rgb, 1, 2));

        Assert.Equal(new byte[] { 17, 230, 17, 230, 17, 230 }, pixels);
    }

    [Fact]
    public void Alpha_is_composited_over_black()
    {
        var png = EncodedImages.Png(3, 1, (x, _) => x switch
        {
            0 => new SKColor(200, 100, 50, 255),
            1 => new SKColor(200, 100, 50, 128),
            _ => new SKColor(255, 255, 255, 0),
        });

        var pixels = Decoder.Decode(png, new DecodeTarget(ColorMode.Rgb, 1, 3));

        byte[] opaque = [pixels[0], pixels[3], pixels[6]];
        byte[] half = [pixels[1], pixels[4], pixels[7]];
        byte[] transparent = [pixels[2], pixels[5], pixels[8]];
        Assert.Equal(new byte[] { 200, 100, 50 }, opaque);
        AssertClose([100, 50, 25], half, tolerance: 1); // v·128/255
        Assert.Equal(new byte[] { 0, 0, 0 }, transparent);
    }

    [Fact]
    public void Grey_of_a_translucent_pixel_is_the_luma_of_the_composited_colour()
    {
        var png = EncodedImages.Png(1, 1, (_, _) => new SKColor(255, 255, 255, 51));

        var pixels = Decoder.Decode(png, new DecodeTarget(ColorMode.Grayscale, 1, 1));

        AssertClose([51], pixels, tolerance: 1);
    }

    [Fact]
    public void Sixteen_bit_rgba_png_is_reduced_to_8_bits_with_alpha_composited()
    {
        // Samples are v·257, the exact 16-bit image of 8-bit v; the second pixel is fully transparent.
        byte[] row =
        [
            0xC8, 0xC8, 0x64, 0x64, 0x32, 0x32, 0xFF, 0xFF, // (200, 100, 50), opaque
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, // white, alpha 0
        ];
        var png = PngChunks.Write(
            ("IHDR", PngChunks.Ihdr(2, 1, bitDepth: 16, colourType: 6)),
            ("IDAT", PngChunks.Idat([row])),
            ("IEND", []));

        var pixels = Decoder.Decode(png, new DecodeTarget(ColorMode.Rgb, 1, 2));

        Assert.Equal(new byte[] { 200, 0, 100, 0, 50, 0 }, pixels);
    }

    [Fact]
    public void Sixteen_bit_grey_png_is_reduced_to_8_bits()
    {
        byte[] row = [0x00, 0x00, 0x80, 0x80, 0xFF, 0xFF];
        var png = PngChunks.Write(
            ("IHDR", PngChunks.Ihdr(3, 1, bitDepth: 16, colourType: 0)),
            ("IDAT", PngChunks.Idat([row])),
            ("IEND", []));

        var pixels = Decoder.Decode(png, new DecodeTarget(ColorMode.Grayscale, 1, 3));

        Assert.Equal(new byte[] { 0, 128, 255 }, pixels);
    }

    [Fact]
    public void Jpeg_exif_orientation_is_applied_before_resizing()
    {
        // Stored 16 wide, 8 high: left half red, right half blue. Orientation 6 means "rotate 90° clockwise
        // to display", so the upright image is 8 wide, 16 high, red on top.
        var stored = EncodedImages.Jpeg(16, 8, (x, _) => x < 8 ? new SKColor(255, 0, 0) : new SKColor(0, 0, 255));
        var rotated = EncodedImages.WithExifOrientation(stored, orientation: 6);
        var pixels = new byte[3 * 16 * 8];

        var info = Decoder.Decode(rotated, new DecodeTarget(ColorMode.Rgb, height: 16, width: 8), pixels);

        Assert.Equal((8, 16), (info.Width, info.Height));
        var red = pixels.AsSpan(0, 128);
        var blue = pixels.AsSpan(256, 128);
        AssertAll(red[..(6 * 8)], 255, tolerance: 8);
        AssertAll(blue[..(6 * 8)], 0, tolerance: 8);
        AssertAll(red[(10 * 8)..], 0, tolerance: 8);
        AssertAll(blue[(10 * 8)..], 255, tolerance: 8);
    }

    internal static void AssertAll(ReadOnlySpan<byte> actual, byte expected, int tolerance)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected) <= tolerance, $"pixel {i} is {actual[i]}, expected {expected} ± {tolerance}");
        }
    }

    internal static void AssertClose(byte[] expected, byte[] actual, int tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"value {i} is {actual[i]}, expected {expected[i]} ± {tolerance}");
        }
    }
}
