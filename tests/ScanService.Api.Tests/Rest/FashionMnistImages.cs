using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace ScanService.Api.Tests.Rest;

/// <summary>
/// Real Fashion-MNIST test images (the IDX file Debian's dataset-fashion-mnist installs), encoded in the formats the
/// service accepts. Lossless encodings of the same pixels decode to the same network input.
/// </summary>
internal static class FashionMnistImages
{
    private const string ImagesFile = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    public const int Side = 28;
    private const int Loaded = 32;

    private static readonly Lazy<byte[][]> Images = new(Load);

    public static int Count => Loaded;

    /// <summary>Grey pixels of test image <paramref name="index"/>, row-major.</summary>
    public static byte[] Pixels(int index) => Images.Value[index];

    public static byte[] Png(int index)
    {
        using var bitmap = Grey(index);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] LosslessWebp(int index)
    {
        using var bitmap = Grey(index);
        using var rgba = bitmap.Copy(SKColorType.Rgba8888);
        using var pixmap = rgba.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            ?? throw new InvalidOperationException("Skia could not encode WebP.");
        return data.ToArray();
    }

    /// <summary>24-bit BMP written by hand (Skia has no BMP encoder): grey as equal R, G and B.</summary>
    public static byte[] Bmp(int index)
    {
        var pixels = Pixels(index);
        const int rowBytes = (Side * 3 + 3) / 4 * 4;
        var bmp = new byte[54 + rowBytes * Side];
        var span = bmp.AsSpan();
        span[0] = (byte)'B';
        span[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(span[2..], bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], 54);
        BinaryPrimitives.WriteInt32LittleEndian(span[14..], 40);
        BinaryPrimitives.WriteInt32LittleEndian(span[18..], Side);
        BinaryPrimitives.WriteInt32LittleEndian(span[22..], Side);
        BinaryPrimitives.WriteInt16LittleEndian(span[26..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[28..], 24);
        BinaryPrimitives.WriteInt32LittleEndian(span[34..], rowBytes * Side);
        for (var y = 0; y < Side; y++)
        {
            var row = 54 + (Side - 1 - y) * rowBytes; // bottom-up
            for (var x = 0; x < Side; x++)
                bmp[row + 3 * x] = bmp[row + 3 * x + 1] = bmp[row + 3 * x + 2] = pixels[y * Side + x];
        }
        return bmp;
    }

    /// <summary>A real PNG whose header is rewritten to declare <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static byte[] PngDeclaring(int index, uint width, uint height)
    {
        var png = Png(index);
        // IHDR is the first chunk: length (4) at 8, type at 12, width and height at 16 and 20, CRC over type+data at 29.
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    private static SKBitmap Grey(int index)
    {
        var bitmap = new SKBitmap(Side, Side, SKColorType.Gray8, SKAlphaType.Opaque);
        var target = bitmap.GetPixelSpan();
        var pixels = Pixels(index);
        for (var y = 0; y < Side; y++)
            pixels.AsSpan(y * Side, Side).CopyTo(target.Slice(y * bitmap.RowBytes, Side));
        return bitmap;
    }

    private static byte[][] Load()
    {
        using var gzip = new GZipStream(File.OpenRead(ImagesFile), CompressionMode.Decompress);
        Span<byte> header = stackalloc byte[16];
        gzip.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32BigEndian(header) != 0x803
            || BinaryPrimitives.ReadInt32BigEndian(header[8..]) != Side || BinaryPrimitives.ReadInt32BigEndian(header[12..]) != Side)
            throw new InvalidDataException($"{ImagesFile} is not an IDX file of 28x28 images.");
        var images = new byte[Loaded][];
        for (var i = 0; i < Loaded; i++)
        {
            images[i] = new byte[Side * Side];
            gzip.ReadExactly(images[i]);
        }
        return images;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
