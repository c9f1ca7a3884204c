
namespace ScanService.Core.Tests.Preprocessing;

/// <summary>Damaged input of every accepted format ends in an <see cref="ImageDecodeException"/> or a decoded image, never anything else.</summary>
public class ImageDecoderRobustnessTests
{
    private static readonly ImageDecoder Decoder = new();
    private static readonly DecodeTarget Target = new(ColorMode.Rgb, 8, 8, ResizeMode.Fit);

    private static SKColor Pattern(int x, int y) => new((byte)(x * 30), (byte)(y * 30), (byte)((x ^ y) * 20), (byte)(255 - x));

    public static TheoryData<string> Formats => ["png", "jpeg", "webp", "bmp", "gif"];

    private static byte[] Encode(string format) => format switch
    {
        "png" => EncodedImages.Png(8, 8, Pattern),
        "jpeg" => EncodedImages.Jpeg(8, 8, Pattern),
        "webp" => EncodedImages.LosslessWebp(8, 8, Pattern),
        "bmp" => BitmapFiles.Bmp24(8, 8, Pattern),
        "gif" => BitmapFiles.Gif(8, 8, [SKColors.Black, SKColors.Red, SKColors.Blue, SKColors.White],
            Enumerable.Range(0, 64).Select(i => (byte)(i % 4)).ToArray()),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>
    /// Bytes after the last pixel that decoders need not read: PNG's zlib checksum, IDAT CRC and IEND chunk
    /// (4 + 4 + 12); JPEG's EOI marker; GIF's block terminator and trailer.
    /// </summary>
    private static int TrailerAfterPixels(string format) => format switch
    {
        "png" => 20,
        "jpeg" or "gif" => 2,
        _ => 0,
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_prefix_of_an_image_is_refused_cleanly(string format)
    {
        var whole = Encode(format);

        for (int length = 0; length < whole.Length; length++)
        {
            var error = TryDecode(whole[..length]);

            if (error is null)
            {
                Assert.True(length >= whole.Length - TrailerAfterPixels(format), $"{format} cut to {length} of {whole.Length} bytes decoded without error");
                continue;
            }
            var expected = length == 0 ? ImageDecodeError.Empty : length < 2 ? ImageDecodeError.UnsupportedFormat : ImageDecodeError.Corrupt;
            Assert.True(error.Error == expected, $"{format} cut to {length} of {whole.Length} bytes gave {error.Error}: {error.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Randomly_damaged_images_are_decoded_or_refused_but_never_crash(string format)
    {
        var whole = Encode(format);
        var random = new Random(format.Length);

        for (int trial = 0; trial < 200; trial++)
        {
            var damaged = (byte[])whole.Clone();
            int flips = random.Next(1, 8);
            for (int f = 0; f < flips; f++)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }

            TryDecode(damaged); // anything but ImageDecodeException escapes and fails the test
        }
    }

    private static ImageDecodeException? TryDecode(byte[] data)
    {
        try
        {
            Decoder.Decode(data, Target);
            return null;
        }
        catch (ImageDecodeException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return e;
        }
    }
}
