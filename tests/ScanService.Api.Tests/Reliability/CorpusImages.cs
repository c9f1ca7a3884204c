using System.Buffers.Binary;
using SkiaSharp;
using Mnist = ScanService.Api.Tests.Rest.FashionMnistImages;

namespace ScanService.Api.Tests.Reliability;

/// <summary>
/// Real Fashion-MNIST test images in every format and variant the service accepts, made here from the dataset's
/// pixels (nothing is downloaded), and the damage done to them: truncation, corrupted data, headers rewritten to
/// declare sizes the data does not have.
/// </summary>
internal static class CorpusImages
{
    private const int Side = Mnist.Side;

    public static byte[] GreyPng(int index) => Mnist.Png(index);

    public static byte[] Bmp(int index) => Mnist.Bmp(index);

    public static byte[] LosslessWebp(int index) => Mnist.LosslessWebp(index);

    /// <summary>Colour: the grey image tinted, so that the three channels differ.</summary>
    public static byte[] RgbPng(int index) => Encode(Colour(index, alpha: false), SKEncodedImageFormat.Png, 100);

    /// <summary>Colour with an alpha channel that varies across the image.</summary>
    public static byte[] RgbaPng(int index) => Encode(Colour(index, alpha: true), SKEncodedImageFormat.Png, 100);

    public static byte[] Jpeg(int index, int quality = 90) => Encode(Grey(index), SKEncodedImageFormat.Jpeg, quality);

    public static byte[] ColourJpeg(int index) => Encode(Colour(index, alpha: false), SKEncodedImageFormat.Jpeg, 90);

    public static byte[] LossyWebp(int index) => Encode(Colour(index, alpha: false), SKEncodedImageFormat.Webp, 80);

    /// <summary>16 bits per sample, grey (colour type 0): each 8-bit value v stored as v·257.</summary>
    public static byte[] Grey16Png(int index)
    {
        var pixels = Mnist.Pixels(index);
        var rows = Enumerable.Range(0, Side).Select(y =>
        {
            var row = new byte[Side * 2];
            for (var x = 0; x < Side; x++) BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(2 * x), (ushort)(pixels[y * Side + x] * 257));
            return row;
        }).ToList();
        return PngChunks.Write(("IHDR", PngChunks.Ihdr(Side, Side, bitDepth: 16, colourType: 0)), ("IDAT", PngChunks.Idat(rows)), ("IEND", []));
    }

    /// <summary>16 bits per sample, RGBA (colour type 6), half transparent.</summary>
    public static byte[] Rgba16Png(int index)
    {
        var pixels = Mnist.Pixels(index);
        var rows = Enumerable.Range(0, Side).Select(y =>
        {
            var row = new byte[Side * 8];
            for (var x = 0; x < Side; x++)
            {
                var v = (ushort)(pixels[y * Side + x] * 257);
                for (var c = 0; c < 3; c++) BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(8 * x + 2 * c), v);
                BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(8 * x + 6), 0x8000);
            }
            return row;
        }).ToList();
        return PngChunks.Write(("IHDR", PngChunks.Ihdr(Side, Side, bitDepth: 16, colourType: 6)), ("IDAT", PngChunks.Idat(rows)), ("IEND", []));
    }

    /// <summary>A GIF89a of the image with a 256-entry grey palette (Skia has no GIF encoder).</summary>
    public static byte[] Gif(int index) => BitmapFiles.GreyGif(Mnist.Pixels(index), Side, Side);

    /// <summary>One pixel, the smallest image there is.</summary>
    public static byte[] OnePixelPng()
    {
        using var bitmap = new SKBitmap(1, 1, SKColorType.Gray8, SKAlphaType.Opaque);
        bitmap.GetPixelSpan()[0] = 200;
        return Encode(bitmap, SKEncodedImageFormat.Png, 100);
    }

    private static readonly Dictionary<(int, int), byte[]> LargePngs = [];

    /// <summary>
    /// A real image of <paramref name="width"/>×<paramref name="height"/> pixels: test image 0 scaled up (nearest),
    /// as a grey PNG. Repeated rows and runs compress well, so even 24 megapixels fit a small body.
    /// </summary>
    public static byte[] LargePng(int width, int height)
    {
        lock (LargePngs)
        {
            if (LargePngs.TryGetValue((width, height), out var cached)) return cached;
            using var small = Grey(0);
            using var large = small.Resize(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), new SKSamplingOptions(SKFilterMode.Nearest))
                ?? throw new InvalidOperationException($"Skia could not scale to {width}x{height}");
            var png = Encode(large, SKEncodedImageFormat.Png, 100);
            LargePngs[(width, height)] = png;
            return png;
        }
    }

    // ---- decompression bombs: real images whose headers declare far more pixels than their data holds ----

    public static byte[] PngDeclaring(uint width, uint height) => Mnist.PngDeclaring(0, width, height);

    /// <summary>A real JPEG whose frame header (SOF) declares <paramref name="width"/>×<paramref name="height"/> (16 bits each).</summary>
    public static byte[] JpegDeclaring(ushort width, ushort height)
    {
        var jpeg = Jpeg(0);
        var sof = JpegSegments.Find(jpeg, marker => marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            ?? throw new InvalidDataException("no SOF segment in the encoded JPEG");
        // SOF: marker (2), length (2), precision (1), height (2), width (2).
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), width);
        return jpeg;
    }

    /// <summary>A real GIF whose logical screen and frame declare <paramref name="width"/>×<paramref name="height"/> (16 bits each).</summary>
    public static byte[] GifDeclaring(ushort width, ushort height)
    {
        var gif = Gif(0);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(6), width);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(8), height);
        var descriptor = BitmapFiles.FirstImageDescriptor(gif);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(descriptor + 5), width);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(descriptor + 7), height);
        return gif;
    }

    /// <summary>A real lossless WebP whose VP8L header declares <paramref name="width"/>×<paramref name="height"/> (14 bits each, at most 16384).</summary>
    public static byte[] WebpDeclaring(int width, int height)
    {
        var webp = LosslessWebp(0);
        if (!webp.AsSpan(12, 4).SequenceEqual("VP8L"u8)) throw new InvalidDataException("Skia's lossless WebP has no plain VP8L chunk");
        // VP8L: chunk header (8) at 12, signature 0x2F at 20, then width-1 and height-1 in 14 bits each, little-endian bit order.
        var bits = BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(21));
        bits = (bits & 0xF000_0000) | (uint)(width - 1) | ((uint)(height - 1) << 14);
        BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(21), bits);
        return webp;
    }

    /// <summary>A real BMP whose info header declares <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static byte[] BmpDeclaring(int width, int height)
    {
        var bmp = Bmp(0);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        return bmp;
    }

    // ---- damage ----

    public static byte[] Truncated(byte[] image, double keptFraction) => image[..(int)(image.Length * keptFraction)];

    /// <summary>A PNG whose compressed pixel data is overwritten with noise, its chunk CRC recomputed so only the data is wrong.</summary>
    public static byte[] PngWithScrambledPixelData()
    {
        var png = GreyPng(0);
        var idat = PngChunks.Parse(png).First(c => c.Type == "IDAT");
        // Keep the 2-byte zlib header so that the stream is recognised, then noise.
        new Random(7).NextBytes(png.AsSpan(idat.DataOffset + 2, idat.Length - 2));
        PngChunks.FixCrc(png, idat);
        return png;
    }

    /// <summary>A JPEG cut right after its start-of-image marker and filled with noise: no segment can be parsed.</summary>
    public static byte[] JpegWithGarbageSegments()
    {
        var jpeg = Jpeg(0);
        new Random(11).NextBytes(jpeg.AsSpan(3));
        return jpeg;
    }

    /// <summary>A GIF whose frame's LZW code size says 12 bits; the format allows at most 11 (and 8 for data).</summary>
    public static byte[] GifWithInvalidLzwCodeSize()
    {
        var gif = Gif(0);
        gif[BitmapFiles.FirstImageDescriptor(gif) + 10] = 12;
        return gif;
    }

    /// <summary>A lossless WebP whose entropy-coded bitstream after the header is noise.</summary>
    public static byte[] WebpWithScrambledBitstream()
    {
        var webp = LosslessWebp(0);
        new Random(13).NextBytes(webp.AsSpan(25));
        return webp;
    }

    // ---- encoding ----

    private static SKBitmap Grey(int index) => FashionMnistTestSet.GreyBitmap(index);

    private static SKBitmap Colour(int index, bool alpha)
    {
        var bitmap = new SKBitmap(Side, Side, SKColorType.Rgba8888, alpha ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        var pixels = Mnist.Pixels(index);
        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                var v = pixels[y * Side + x];
                bitmap.SetPixel(x, y, new SKColor(v, (byte)(v * 3 / 4), (byte)(v / 2), alpha ? (byte)(128 + x * 4) : (byte)255));
            }
        }
        return bitmap;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using (bitmap)
        using (var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"Skia could not encode {format}"))
            return data.ToArray();
    }
}

/// <summary>JPEG marker segments: where they are in an encoded image.</summary>
internal static class JpegSegments
{
    /// <summary>Offsets of the 0xFF of every marker segment before the scan data, in order.</summary>
    public static List<(int Offset, byte Marker, int Length)> Before(byte[] jpeg)
    {
        var segments = new List<(int, byte, int)>();
        var at = 2;
        while (at + 4 <= jpeg.Length && jpeg[at] == 0xFF)
        {
            var marker = jpeg[at + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(at + 2));
            segments.Add((at, marker, length));
            if (marker == 0xDA) break; // start of scan: entropy-coded data follows
            at += 2 + length;
        }
        return segments;
    }

    public static int? Find(byte[] jpeg, Func<byte, bool> marker) =>
        Before(jpeg).Where(s => marker(s.Marker)).Select(s => (int?)s.Offset).FirstOrDefault();
}
