using System.Buffers.Binary;

namespace ScanService.Core.Tests.Preprocessing;

/// <summary>Test images with known pixels through Skia's encoders: PNG, JPEG and WebP (PNG chunks, BMP and GIF by hand: ScanService.TestSupport).</summary>
internal static class EncodedImages
{
    public static SKBitmap Bitmap(int width, int height, Func<int, int, SKColor> colorAt)
    {
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, colorAt(x, y));
            }
        }
        return bitmap;
    }

    public static byte[] Png(int width, int height, Func<int, int, SKColor> colorAt)
    {
        using var bitmap = Bitmap(width, height, colorAt);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] GreyPng(int width, int height, Func<int, int, byte> valueAt)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        var pixels = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                pixels[y * bitmap.RowBytes + x] = valueAt(x, y);
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] Jpeg(int width, int height, Func<int, int, SKColor> colorAt, int quality = 95)
    {
        using var bitmap = Bitmap(width, height, colorAt);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    public static byte[] LosslessWebp(int width, int height, Func<int, int, SKColor> colorAt)
    {
        using var bitmap = Bitmap(width, height, colorAt);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            ?? throw new InvalidOperationException("Skia could not encode WebP.");
        return data.ToArray();
    }

    /// <summary>A JPEG carrying an EXIF APP1 segment whose only tag is Orientation (0x0112).</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00, // SHORT, count 1
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }
}
