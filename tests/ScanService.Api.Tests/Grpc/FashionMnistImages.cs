using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace ScanService.Api.Tests.Grpc;

/// <summary>Real Fashion-MNIST test images encoded as PNG, and images built to be slow to decode.</summary>
internal static class FashionMnistImages
{
    private const string TestImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    private const int IdxImagesMagic = 0x803;
    private static readonly Lazy<IReadOnlyList<byte[]>> Pngs = new(() => ReadPngs(64));

    /// <summary>The first <paramref name="count"/> test images (at most 64), as PNG.</summary>
    public static IReadOnlyList<byte[]> Take(int count) => Pngs.Value.Take(count).ToList();

    /// <summary>A noisy grey PNG of <paramref name="side"/>² pixels: valid, and costly to decode and resize.</summary>
    public static byte[] LargeNoisePng(int side, int seed = 1)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(side, side, SKColorType.Gray8, SKAlphaType.Opaque);
        random.NextBytes(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static List<byte[]> ReadPngs(int count)
    {
        // IDX: magic, count, rows and columns as big-endian int32, then one byte per pixel, row-major.
        using var gzip = new GZipStream(File.OpenRead(TestImages), CompressionMode.Decompress);
        Span<byte> header = stackalloc byte[16];
        gzip.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32BigEndian(header) != IdxImagesMagic)
            throw new InvalidDataException($"{TestImages} is not an IDX image file");
        var available = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        var columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        var pixels = new byte[rows * columns];
        var pngs = new List<byte[]>(count);
        for (var i = 0; i < Math.Min(count, available); i++)
        {
            gzip.ReadExactly(pixels);
            using var bitmap = new SKBitmap(columns, rows, SKColorType.Gray8, SKAlphaType.Opaque);
            var target = bitmap.GetPixelSpan();
            for (var y = 0; y < rows; y++)
                pixels.AsSpan(y * columns, columns).CopyTo(target.Slice(y * bitmap.RowBytes, columns));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            pngs.Add(data.ToArray());
        }
        return pngs;
    }
}
