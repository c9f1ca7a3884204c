using System.Diagnostics;

namespace ScanService.Core.Tests.Preprocessing;

public class ImageDecoderErrorTests
{
    private static readonly ImageDecoder Decoder = new();
    private static readonly DecodeTarget Target = new(ColorMode.Rgb, 8, 8);

    private static SKColor Gradient(int x, int y) => new((byte)(x * 4), (byte)(y * 4), (byte)(x * y));

    private static ImageDecodeException DecodeFails(byte[] data) =>
        Assert.Throws<ImageDecodeException>(() => Decoder.Decode(data, Target));

    [Fact]
    public void Empty_input_is_refused_as_empty()
    {
        var error = DecodeFails([]);

        Assert.Equal(ImageDecodeError.Empty, error.Error);
        Assert.Contains("empty", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(4096)]
    public void Garbage_bytes_are_an_unsupported_format(int length)
    {
        var garbage = new byte[length];
        new Random(length).NextBytes(garbage);
        garbage[0] = (byte)'x'; // no accepted signature starts with 'x'

        var error = DecodeFails(garbage);

        Assert.Equal(ImageDecodeError.UnsupportedFormat, error.Error);
        Assert.Contains("PNG, JPEG, BMP, WebP or GIF", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zeros_are_not_mistaken_for_any_format()
    {
        // Skia would sniff leading zeros as WBMP; only the five accepted signatures get through.
        Assert.Equal(ImageDecodeError.UnsupportedFormat, DecodeFails(new byte[64]).Error);
    }

    public static TheoryData<string, double> Truncations => new()
    {
        { "png", 0.5 }, { "png", 0.9 }, { "png", 0.05 },
        { "jpeg", 0.5 }, { "jpeg", 0.9 }, { "jpeg", 0.05 },
        { "webp", 0.5 }, { "webp", 0.9 }, { "webp", 0.05 },
        { "bmp", 0.5 }, { "gif", 0.5 },
    };

    [Theory]
    [MemberData(nameof(Truncations))]
    public void Truncated_image_is_corrupt(string format, double keptFraction)
    {
        var whole = Encode(format);
        var truncated = whole[..Math.Max(2, (int)(whole.Length * keptFraction))];

        var error = DecodeFails(truncated);

        Assert.Equal(ImageDecodeError.Corrupt, error.Error);
    }

    [Fact]
    public void Truncated_png_message_names_the_format_and_the_problem()
    {
        var png = Encode("png");

        var error = DecodeFails(png[..(png.Length / 2)]);

        Assert.Contains("PNG", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Png_with_damaged_pixel_data_is_corrupt()
    {
        var png = Encode("png");
        // Overwrite the middle of the file (inside IDAT) with noise; chunk CRCs and zlib checks catch it.
        new Random(7).NextBytes(png.AsSpan(png.Length / 3, png.Length / 3));

        Assert.Equal(ImageDecodeError.Corrupt, DecodeFails(png).Error);
    }

    [Fact]
    public void Signature_followed_by_garbage_is_corrupt()
    {
        byte[] data = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[100]];
        new Random(3).NextBytes(data.AsSpan(8));

        Assert.Equal(ImageDecodeError.Corrupt, DecodeFails(data).Error);
    }

    [Fact]
    public void Png_header_declaring_ten_billion_pixels_is_refused_before_allocating()
    {
        var bomb = PngChunks.Write(
            ("IHDR", PngChunks.Ihdr(100_000, 100_000, bitDepth: 8, colourType: 2)),
            ("IDAT", PngChunks.Idat([new byte[3 * 16]])),
            ("IEND", []));
        Decoder.Decode(EncodedImages.Png(2, 2, Gradient), new DecodeTarget(ColorMode.Rgb, 2, 2)); // warm up Skia
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();

        var error = DecodeFails(bomb);

        clock.Stop();
        Assert.Equal(ImageDecodeError.TooManyPixels, error.Error);
        Assert.Contains("100000x100000", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"refusal took {clock.Elapsed}");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 1_000_000, "refusal allocated a pixel buffer");
    }

    [Fact]
    public void Maximum_pixel_count_is_configurable()
    {
        var png = EncodedImages.Png(10, 10, Gradient);

        Assert.Equal(ImageDecodeError.TooManyPixels,
            Assert.Throws<ImageDecodeException>(() => new ImageDecoder(maxPixels: 99).Decode(png, Target)).Error);
        Assert.Equal(Target.PixelsPerSample, new ImageDecoder(maxPixels: 100).Decode(png, Target).Length);
    }

    [Fact]
    public void Destination_of_the_wrong_size_is_a_caller_error()
    {
        var png = EncodedImages.Png(8, 8, Gradient);

        Assert.Throws<ArgumentException>(() => Decoder.Decode(png, Target, new byte[Target.PixelsPerSample - 1]));
    }

    private static byte[] Encode(string format)
    {
        const int Size = 64;
        return format switch
        {
            "png" => EncodedImages.Png(Size, Size, Gradient),
            "jpeg" => EncodedImages.Jpeg(Size, Size, Gradient),
            "webp" => EncodedImages.LosslessWebp(Size, Size, Gradient),
            "bmp" => BitmapFiles.Bmp24(Size, Size, Gradient),
            "gif" => BitmapFiles.Gif(Size, Size, [SKColors.Black, SKColors.Red, SKColors.Blue, SKColors.White],
                Enumerable.Range(0, Size * Size).Select(i => (byte)(i % 4)).ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
    }
}
