using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace ScanService.TestSupport;

/// <summary>
/// The Fashion-MNIST test set as Debian's dataset-fashion-mnist installs it (IDX, gzip): read once, whole, on first
/// use. Tests use real images and their real labels; nothing is downloaded.
/// </summary>
public static class FashionMnistTestSet
{
    public const string Folder = "/usr/share/datasets/fashion-mnist";
    public const string ImagesFile = Folder + "/t10k-images-idx3-ubyte.gz";
    public const string LabelsFile = Folder + "/t10k-labels-idx1-ubyte.gz";
    public const int Side = 28;
    public const int PixelsPerImage = Side * Side;

    private static readonly Lazy<byte[]> AllPixels = new(() => ReadIdx(ImagesFile, magic: 0x803, [Side, Side]));
    private static readonly Lazy<byte[]> AllLabels = new(() => ReadIdx(LabelsFile, magic: 0x801, []));

    public static int Count => AllLabels.Value.Length;

    /// <summary>Grey pixels of test image <paramref name="index"/>, row-major, as a new array.</summary>
    public static byte[] Pixels(int index) => PixelSpan(index).ToArray();

    /// <summary>Grey pixels of images <paramref name="first"/>.. <paramref name="first"/> + <paramref name="count"/> - 1, one after another.</summary>
    public static ReadOnlySpan<byte> PixelSpan(int first, int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first + count, Count);
        return AllPixels.Value.AsSpan(first * PixelsPerImage, count * PixelsPerImage);
    }

    public static int Label(int index) => AllLabels.Value[index];

    /// <summary>The first <paramref name="count"/> labels.</summary>
    public static int[] Labels(int count) => AllLabels.Value.Take(count).Select(b => (int)b).ToArray();

    /// <summary>Test image <paramref name="index"/> as an 8-bit grey bitmap; the caller disposes it.</summary>
    public static SKBitmap GreyBitmap(int index)
    {
        var bitmap = new SKBitmap(Side, Side, SKColorType.Gray8, SKAlphaType.Opaque);
        var target = bitmap.GetPixelSpan();
        var pixels = PixelSpan(index);
        for (var y = 0; y < Side; y++) pixels.Slice(y * Side, Side).CopyTo(target.Slice(y * bitmap.RowBytes, Side));
        return bitmap;
    }

    /// <summary>Test image <paramref name="index"/> as the lossless grey PNG a client would send.</summary>
    public static byte[] Png(int index)
    {
        using var bitmap = GreyBitmap(index);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The first <paramref name="count"/> test images as PNGs.</summary>
    public static IReadOnlyList<byte[]> Pngs(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        return Enumerable.Range(0, count).Select(Png).ToList();
    }

    /// <summary>An IDX file's items after its header, checking the magic number and the item shape.</summary>
    private static byte[] ReadIdx(string path, int magic, int[] itemShape)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var header = new byte[4 * (2 + itemShape.Length)];
        gzip.ReadExactly(header);
        var dims = Enumerable.Range(0, 1 + itemShape.Length).Select(i => BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 + 4 * i))).ToArray();
        if (BinaryPrimitives.ReadInt32BigEndian(header) != magic || !dims.Skip(1).SequenceEqual(itemShape))
            throw new InvalidDataException($"{path} is not an IDX file of {(itemShape.Length == 0 ? "labels" : string.Join('x', itemShape) + " images")}");
        var items = new byte[dims[0] * itemShape.Aggregate(1, (a, d) => a * d)];
        gzip.ReadExactly(items);
        return items;
    }
}
