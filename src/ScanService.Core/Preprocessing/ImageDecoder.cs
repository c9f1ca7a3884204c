using System.Globalization;
using ScanService.Core.Bundle;
using SkiaSharp;

namespace ScanService.Core.Preprocessing;

/// <summary>
/// Decodes PNG, JPEG, BMP, WebP and GIF (first frame) into the raw channel-major bytes (C×H×W) a model
/// expects: colour converted, EXIF-oriented, resized and, where asked, inverted. The service and the trainer
/// both decode through this class, so a model sees the same pixels in training as in production.
/// </summary>
/// <remarks>
/// Immutable and thread-safe. Every image is first decoded at full size to 8-bit RGBA with premultiplied
/// alpha, which is the image composited over black; grey is then the BT.601 luma of that RGB, the weights
/// PIL and torchvision use. No colour-space conversion is applied: the stored values are used as they are.
/// </remarks>
public sealed class ImageDecoder
{
    /// <summary>
    /// 40 megapixels: above any phone photo, while the full-size RGBA decode (160 MB) stays affordable
    /// for a service that decodes several requests at once.
    /// </summary>
    public const long DefaultMaxPixels = 40_000_000;

    // Linear filtering over linear mipmaps: a large downscale averages every source pixel rather than
    // sampling a few of them, so small inputs (28×28) made from photos do not alias.
    private static readonly SKSamplingOptions Sampling = new(SKFilterMode.Linear, SKMipmapMode.Linear);

    public ImageDecoder(long maxPixels = DefaultMaxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
        MaxPixels = maxPixels;
    }

    /// <summary>Largest width × height, as declared by the image header, that is decoded.</summary>
    public long MaxPixels { get; }

    /// <summary>Decodes an image into a new array of <see cref="DecodeTarget.PixelsPerSample"/> bytes.</summary>
    /// <exception cref="ImageDecodeException">The data is empty, of another format, corrupt or too large.</exception>
    public byte[] Decode(ReadOnlySpan<byte> encoded, DecodeTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var pixels = new byte[target.PixelsPerSample];
        Decode(encoded, target, pixels);
        return pixels;
    }

    /// <summary>Decodes an image into <paramref name="destination"/>, C planes of H×W bytes.</summary>
    /// <exception cref="ImageDecodeException">The data is empty, of another format, corrupt or too large.</exception>
    public DecodedImageInfo Decode(ReadOnlySpan<byte> encoded, DecodeTarget target, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (destination.Length != target.PixelsPerSample)
        {
            throw new ArgumentException(
                $"Destination holds {destination.Length} bytes; the target needs {target.PixelsPerSample} ({target.Channels}x{target.Height}x{target.Width}).",
                nameof(destination));
        }
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException(ImageDecodeError.Empty, "The image is empty (0 bytes).");
        }
        var format = ImageSignature.Detect(encoded) ?? throw new ImageDecodeException(
            ImageDecodeError.UnsupportedFormat, "The data is not a PNG, JPEG, BMP, WebP or GIF image.");
        var name = ImageSignature.DisplayName(format);

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw Unreadable(format, name, encoded);
        if (codec.EncodedFormat != ToSkia(format))
        {
            throw new ImageDecodeException(
                ImageDecodeError.UnsupportedFormat, $"The data starts like a {name} image but is not one the decoder can read.");
        }

        // The size check comes from the header alone, before a single pixel buffer exists.
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0)
        {
            throw new ImageDecodeException(ImageDecodeError.Corrupt, $"The {name} image declares an empty size ({width}x{height}).");
        }
        long pixelCount = (long)width * height;
        if (pixelCount > MaxPixels)
        {
            throw new ImageDecodeException(
                ImageDecodeError.TooManyPixels,
                string.Create(CultureInfo.InvariantCulture,
                    $"The image is {width}x{height} pixels ({pixelCount:N0}); at most {MaxPixels:N0} pixels are accepted."));
        }

        var origin = codec.EncodedOrigin;
        bool transposed = SwapsAxes(origin);
        var (shownWidth, shownHeight) = transposed ? (height, width) : (width, height);

        using var full = DecodeFullSize(codec, name);
        var placement = Place(shownWidth, shownHeight, target);
        var (scaledWidth, scaledHeight) = transposed
            ? (placement.ContentHeight, placement.ContentWidth)
            : (placement.ContentWidth, placement.ContentHeight);

        destination.Clear();
        if (scaledWidth == width && scaledHeight == height)
        {
            WritePlanes(full, origin, placement, target, destination);
        }
        else
        {
            using var scaled = Allocate(new SKImageInfo(scaledWidth, scaledHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
            using (var source = full.PeekPixels())
            using (var scaledPixels = scaled.PeekPixels())
            {
                if (!source.ScalePixels(scaledPixels, Sampling))
                {
                    throw new InvalidOperationException($"Skia could not scale {width}x{height} to {scaledWidth}x{scaledHeight}.");
                }
            }
            WritePlanes(scaled, origin, placement, target, destination);
        }
        return new DecodedImageInfo(format, shownWidth, shownHeight);
    }

    /// <summary>
    /// libpng refuses a side longer than <see cref="MaxPngSide"/> pixels before Skia sees the header, so a valid but
    /// very wide or tall PNG (40,000,000×1, say) would pass for a corrupt one. Its IHDR says which it is.
    /// </summary>
    private const int MaxPngSide = 1_000_000;

    private static ImageDecodeException Unreadable(ImageFormat format, string name, ReadOnlySpan<byte> encoded)
    {
        // PNG: 8-byte signature, then the IHDR chunk (length, "IHDR", width, height big-endian).
        if (format == ImageFormat.Png && encoded.Length >= 24 && encoded.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            var width = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(encoded.Slice(16, 4));
            var height = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(encoded.Slice(20, 4));
            if (width > MaxPngSide || height > MaxPngSide)
            {
                return new ImageDecodeException(ImageDecodeError.TooManyPixels,
                    string.Create(CultureInfo.InvariantCulture,
                        $"The image is {width}x{height} pixels; PNG sides longer than {MaxPngSide:N0} pixels are not decoded."));
            }
        }
        return new ImageDecodeException(ImageDecodeError.Corrupt, $"The {name} image is corrupt or truncated: its header could not be read.");
    }

    private static SKBitmap DecodeFullSize(SKCodec codec, string name)
    {
        // Premultiplied RGBA is the image composited over black; 16-bit, palette, grey and CMYK sources
        // are all converted to it by the codec.
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = Allocate(info);
        try
        {
            var result = codec.GetPixels(info, bitmap.GetPixels());
            switch (result)
            {
                case SKCodecResult.Success:
                    return bitmap;
                case SKCodecResult.IncompleteInput:
                    throw new ImageDecodeException(ImageDecodeError.Corrupt, $"The {name} image is truncated: its data ends before the last pixel.");
                case SKCodecResult.InvalidConversion:
                case SKCodecResult.Unimplemented:
                    throw new ImageDecodeException(ImageDecodeError.UnsupportedFormat, $"This kind of {name} image is not supported.");
                default:
                    throw new ImageDecodeException(ImageDecodeError.Corrupt, $"The {name} image is corrupt: its pixel data is invalid.");
            }
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    private static SKBitmap Allocate(SKImageInfo info)
    {
        var bitmap = new SKBitmap(info);
        if (bitmap.GetPixels() == IntPtr.Zero)
        {
            bitmap.Dispose();
            throw new InsufficientMemoryException($"Could not allocate {info.Width}x{info.Height} pixels for decoding.");
        }
        return bitmap;
    }

    /// <summary>Where the image's content lands in the target: its size and its top-left corner.</summary>
    private readonly record struct Placement(int ContentWidth, int ContentHeight, int Left, int Top);

    private static Placement Place(int width, int height, DecodeTarget target)
    {
        if (target.Resize == ResizeMode.Stretch)
        {
            return new Placement(target.Width, target.Height, 0, 0);
        }
        // Fit: the longer side (relative to the target) fills it; the other is centred in zero padding.
        double scale = Math.Min((double)target.Width / width, (double)target.Height / height);
        int contentWidth = Math.Clamp((int)Math.Round(width * scale), 1, target.Width);
        int contentHeight = Math.Clamp((int)Math.Round(height * scale), 1, target.Height);
        return new Placement(contentWidth, contentHeight, (target.Width - contentWidth) / 2, (target.Height - contentHeight) / 2);
    }

    /// <summary>
    /// Writes RGBA pixels stored in the encoded orientation into the target's planes, turning them upright
    /// on the way: orientation is applied after scaling so that only the small image is walked.
    /// </summary>
    private static void WritePlanes(SKBitmap rgba, SKEncodedOrigin origin, Placement placement, DecodeTarget target, Span<byte> destination)
    {
        int sourceWidth = rgba.Width;
        int sourceHeight = rgba.Height;
        int rowBytes = rgba.RowBytes;
        ReadOnlySpan<byte> pixels = rgba.GetPixelSpan();
        int plane = target.Height * target.Width;
        bool grey = target.ColorMode == ColorMode.Grayscale;
        // v ^ 255 == 255 - v: inversion without a branch per pixel. Padding is never written, so it stays 0.
        byte flip = target.Invert ? (byte)255 : (byte)0;

        for (int y = 0; y < sourceHeight; y++)
        {
            var row = pixels.Slice(y * rowBytes, sourceWidth * 4);
            for (int x = 0; x < sourceWidth; x++)
            {
                var (shownX, shownY) = Orient(origin, x, y, sourceWidth, sourceHeight);
                int at = (placement.Top + shownY) * target.Width + placement.Left + shownX;
                byte r = row[x * 4], g = row[x * 4 + 1], b = row[x * 4 + 2];
                if (grey)
                {
                    destination[at] = (byte)(Luma(r, g, b) ^ flip);
                }
                else
                {
                    destination[at] = (byte)(r ^ flip);
                    destination[plane + at] = (byte)(g ^ flip);
                    destination[2 * plane + at] = (byte)(b ^ flip);
                }
            }
        }
    }

    /// <summary>ITU-R BT.601 luma, rounded; exact for grey pixels since the weights sum to 1000.</summary>
    internal static byte Luma(byte r, byte g, byte b) => (byte)((299 * r + 587 * g + 114 * b + 500) / 1000);

    private static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Where stored pixel (x, y) of a w×h image appears once the EXIF orientation is applied.</summary>
    private static (int X, int Y) Orient(SKEncodedOrigin origin, int x, int y, int w, int h) => origin switch
    {
        SKEncodedOrigin.TopRight => (w - 1 - x, y),
        SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
        SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
        SKEncodedOrigin.LeftTop => (y, x),
        SKEncodedOrigin.RightTop => (h - 1 - y, x),
        SKEncodedOrigin.RightBottom => (h - 1 - y, w - 1 - x),
        SKEncodedOrigin.LeftBottom => (y, w - 1 - x),
        _ => (x, y),
    };

    private static SKEncodedImageFormat ToSkia(ImageFormat format) => format switch
    {
        ImageFormat.Png => SKEncodedImageFormat.Png,
        ImageFormat.Jpeg => SKEncodedImageFormat.Jpeg,
        ImageFormat.Bmp => SKEncodedImageFormat.Bmp,
        ImageFormat.Webp => SKEncodedImageFormat.Webp,
        ImageFormat.Gif => SKEncodedImageFormat.Gif,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}
