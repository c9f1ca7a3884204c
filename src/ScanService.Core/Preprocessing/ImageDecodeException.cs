namespace ScanService.Core.Preprocessing;

/// <summary>Why an uploaded image could not be turned into network input.</summary>
public enum ImageDecodeError
{
    /// <summary>No bytes at all.</summary>
    Empty,
    /// <summary>The bytes are not PNG, JPEG, BMP, WebP or GIF, or a variant of them the decoder cannot read.</summary>
    UnsupportedFormat,
    /// <summary>The format is recognised but the data is truncated or invalid.</summary>
    Corrupt,
    /// <summary>The header declares more pixels than the decoder accepts (a decompression bomb or an oversized photo).</summary>
    TooManyPixels,
}

/// <summary>
/// An image that cannot be decoded. The message is written for the person who sent the image: it says what
/// is wrong with the data and never names a file or carries internals, so the service may show it as is.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(ImageDecodeError error, string message)
        : base(message)
    {
        Error = error;
    }

    public ImageDecodeError Error { get; }
}
