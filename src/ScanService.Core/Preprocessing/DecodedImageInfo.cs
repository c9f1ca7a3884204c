namespace ScanService.Core.Preprocessing;

/// <summary>What the decoder found in the encoded data: its format and its size as displayed (EXIF orientation applied).</summary>
public readonly record struct DecodedImageInfo(ImageFormat Format, int Width, int Height);
