using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace ScanService.Api.Tests.Metrics;

/// <summary>The first images of the Fashion-MNIST test set (Debian's dataset-fashion-mnist), as PNGs a client would send.</summary>
internal static class FashionMnistTestSet
{
    private const string ImagesFile = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    private const int Side = 28;

    public static IReadOnlyList<byte[]> Pngs(int count)
    {
        using var gzip = new GZipStream(File.OpenRead(ImagesFile), CompressionMode.Decompress);
        Span<byte> header = stackalloc byte[16];
        gzip.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32BigEndian(header) != 0x803
            || BinaryPrimitives.ReadInt32BigEndian(header[8..]) != Side || BinaryPrimitives.ReadInt32BigEndian(header[12..]) != Side)
            throw new InvalidDataException($"{ImagesFile} is not an IDX file of 28x28 images.");
        var available = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count > available) throw new ArgumentOutOfRangeException(nameof(count), $"the test set has {available} images");

        var pngs = new byte[count][];
        var pixels = new byte[Side * Side];
        for (var i = 0; i < count; i++)
        {
            gzip.ReadExactly(pixels);
            using var bitmap = new SKBitmap(Side, Side, SKColorType.Gray8, SKAlphaType.Opaque);
            var target = bitmap.GetPixelSpan();
            for (var y = 0; y < Side; y++) pixels.AsSpan(y * Side, Side).CopyTo(target.Slice(y * bitmap.RowBytes, Side));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            pngs[i] = data.ToArray();
        }
        return pngs;
    }
}
