using ScanService.Core.Bundle;

namespace ScanService.Core.Preprocessing;

/// <summary>
/// The pixel layout an image is decoded to: colour mode, size and how the size is reached. The manifest's
/// <see cref="InputSpec"/> minus normalisation, so that training data can be decoded before its statistics exist.
/// </summary>
public sealed record DecodeTarget
{
    public DecodeTarget(ColorMode colorMode, int height, int width, ResizeMode resize = ResizeMode.Stretch, bool invert = false)
    {
        if (!Enum.IsDefined(colorMode)) throw new ArgumentOutOfRangeException(nameof(colorMode), colorMode, "Unknown colour mode.");
        if (!Enum.IsDefined(resize)) throw new ArgumentOutOfRangeException(nameof(resize), resize, "Unknown resize mode.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ColorMode = colorMode;
        Height = height;
        Width = width;
        Resize = resize;
        Invert = invert;
    }

    public ColorMode ColorMode { get; }
    public int Height { get; }
    public int Width { get; }
    public ResizeMode Resize { get; }
    /// <summary>Whether pixel values are flipped (255 - v) after colour conversion; padding stays 0.</summary>
    public bool Invert { get; }

    public int Channels => ChannelsOf(ColorMode);

    /// <summary>Bytes of one decoded sample: channels × height × width.</summary>
    public int PixelsPerSample => Channels * Height * Width;

    public static DecodeTarget For(InputSpec input)
    {
        if (input.Channels != ChannelsOf(input.ColorMode))
        {
            throw new ArgumentException(
                $"Input spec declares {input.Channels} channel(s) but colour mode {input.ColorMode}, which has {ChannelsOf(input.ColorMode)}.",
                nameof(input));
        }
        return new DecodeTarget(input.ColorMode, input.Height, input.Width, input.Resize, input.Invert);
    }

    public static int ChannelsOf(ColorMode colorMode) => colorMode == ColorMode.Grayscale ? 1 : 3;
}
