using SkiaSharp;

namespace ScanService.Api.Tests.Grpc;

/// <summary>Real Fashion-MNIST test images encoded as PNG, and images built to be slow to decode.</summary>
internal static class FashionMnistImages
{
    private static readonly Lazy<IReadOnlyList<byte[]>> Pngs = new(() => FashionMnistTestSet.Pngs(64));

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
}
