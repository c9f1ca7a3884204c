using SkiaSharp;

namespace ScanService.Api.Tests.Rest;

/// <summary>
/// The first Fashion-MNIST test images, encoded in the formats the service accepts. Lossless encodings of the same
/// pixels decode to the same network input.
/// </summary>
internal static class FashionMnistImages
{
    public const int Side = FashionMnistTestSet.Side;

    public static int Count => 32;

    /// <summary>Grey pixels of test image <paramref name="index"/>, row-major.</summary>
    public static byte[] Pixels(int index) => FashionMnistTestSet.Pixels(index);

    public static byte[] Png(int index) => FashionMnistTestSet.Png(index);

    public static byte[] LosslessWebp(int index)
    {
        using var bitmap = FashionMnistTestSet.GreyBitmap(index);
        using var rgba = bitmap.Copy(SKColorType.Rgba8888);
        using var pixmap = rgba.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            ?? throw new InvalidOperationException("Skia could not encode WebP.");
        return data.ToArray();
    }

    /// <summary>24-bit BMP written by hand (Skia has no BMP encoder): grey as equal R, G and B.</summary>
    public static byte[] Bmp(int index) => BitmapFiles.GreyBmp(Pixels(index), Side, Side);

    /// <summary>A real PNG whose header is rewritten to declare <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static byte[] PngDeclaring(int index, uint width, uint height) => PngChunks.Declaring(Png(index), width, height);
}
