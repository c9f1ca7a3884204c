using ScanService.Datasets;
using SkiaSharp;

namespace ScanService.TestSupport;

/// <summary>
/// The Fashion-MNIST test set as Debian's dataset-fashion-mnist installs it, read once, whole, on first use by the
/// solution's one IDX reader. Tests use real images and their real labels; nothing is downloaded.
/// </summary>
public static class FashionMnistTestSet
{
    public const int Side = 28;
    public const int PixelsPerImage = Side * Side;

    private static readonly Lazy<IdxSplit> Split = new(() =>
    {
        var split = FashionMnist.ReadTestSplit();
        if (split.Images.Rows != Side || split.Images.Columns != Side)
            throw new InvalidDataException($"{split.ImagesFile} holds {split.Images.Rows}x{split.Images.Columns} images, not {Side}x{Side}");
        return split;
    });

    public static int Count => Split.Value.Count;

    /// <summary>Grey pixels of test image <paramref name="index"/>, row-major, as a new array.</summary>
    public static byte[] Pixels(int index) => PixelSpan(index).ToArray();

    /// <summary>Grey pixels of images <paramref name="first"/>.. <paramref name="first"/> + <paramref name="count"/> - 1, one after another.</summary>
    public static ReadOnlySpan<byte> PixelSpan(int first, int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first + count, Count);
        return Split.Value.Images.Pixels.AsSpan(first * PixelsPerImage, count * PixelsPerImage);
    }

    public static int Label(int index) => Split.Value.Labels[index];

    /// <summary>The first <paramref name="count"/> labels.</summary>
    public static int[] Labels(int count) => [.. Split.Value.Labels.Take(count).Select(b => (int)b)];

    /// <summary>Test image <paramref name="index"/> as an 8-bit grey bitmap; the caller disposes it.</summary>
    public static SKBitmap GreyBitmap(int index) => Split.Value.Images.GreyBitmap(index);

    /// <summary>Test image <paramref name="index"/> as the lossless grey PNG a client would send.</summary>
    public static byte[] Png(int index) => Split.Value.Images.Png(index);

    /// <summary>The first <paramref name="count"/> test images as PNGs.</summary>
    public static IReadOnlyList<byte[]> Pngs(int count) => Split.Value.Images.Pngs(count);
}
