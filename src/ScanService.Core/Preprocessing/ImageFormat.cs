namespace ScanService.Core.Preprocessing;

/// <summary>The encoded formats the decoder accepts.</summary>
public enum ImageFormat
{
    Png,
    Jpeg,
    Bmp,
    Webp,
    Gif,
}

/// <summary>Recognises the accepted formats by their magic bytes, before any decoder sees the data.</summary>
/// <remarks>
/// Skia also sniffs formats we do not want to expose (ICO, WBMP; WBMP's signature matches many byte strings
/// that start with zeros), so only data that carries one of these signatures is handed to it.
/// </remarks>
internal static class ImageSignature
{
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF];
    private static readonly byte[] Gif = "GIF8"u8.ToArray();
    private static readonly byte[] Bmp = "BM"u8.ToArray();
    private static readonly byte[] Riff = "RIFF"u8.ToArray();
    private static readonly byte[] Webp = "WEBP"u8.ToArray();

    /// <summary>The format the data claims to be, or null when it carries no accepted signature.</summary>
    /// <remarks>
    /// Data shorter than a signature but equal to its start is still attributed to that format, so that an
    /// image cut off inside its signature reads as truncated rather than as some unknown format.
    /// </remarks>
    public static ImageFormat? Detect(ReadOnlySpan<byte> data)
    {
        if (StartsWithOrIsPrefixOf(data, Png)) return ImageFormat.Png;
        if (StartsWithOrIsPrefixOf(data, Jpeg)) return ImageFormat.Jpeg;
        if (StartsWithOrIsPrefixOf(data, Gif)) return ImageFormat.Gif;
        if (data.Length >= Bmp.Length && data.StartsWith(Bmp)) return ImageFormat.Bmp;
        if (StartsWithOrIsPrefixOf(data, Riff) && (data.Length < 12 || data.Slice(8, 4).SequenceEqual(Webp)))
        {
            return ImageFormat.Webp;
        }
        return null;
    }

    public static string DisplayName(ImageFormat format) => format switch
    {
        ImageFormat.Png => "PNG",
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Bmp => "BMP",
        ImageFormat.Webp => "WebP",
        ImageFormat.Gif => "GIF",
        _ => format.ToString(),
    };

    private static bool StartsWithOrIsPrefixOf(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        data.Length >= signature.Length
            ? data.StartsWith(signature)
            : data.Length >= 2 && signature.StartsWith(data);
}
