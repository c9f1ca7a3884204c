using System.Buffers;
using ScanService.Core.Bundle;

namespace ScanService.Core.Preprocessing;

/// <summary>
/// Encoded image in, normalised network input out, exactly as the model bundle's <see cref="InputSpec"/> says.
/// Thread-safe; one instance per loaded model.
/// </summary>
public sealed class ImagePreprocessor
{
    public ImagePreprocessor(InputSpec input, ImageDecoder? decoder = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        Input = input;
        Target = DecodeTarget.For(input);
        Normalization = ChannelNormalization.For(input);
        Decoder = decoder ?? new ImageDecoder();
    }

    public InputSpec Input { get; }
    public DecodeTarget Target { get; }
    public ChannelNormalization Normalization { get; }
    public ImageDecoder Decoder { get; }

    /// <summary>Floats per sample: channels × height × width.</summary>
    public int ValuesPerSample => Target.PixelsPerSample;

    /// <summary>Decodes <paramref name="encoded"/> and writes its normalised C×H×W values into <paramref name="destination"/>.</summary>
    /// <exception cref="ImageDecodeException">The image cannot be decoded; the message can be shown to the sender.</exception>
    public DecodedImageInfo Preprocess(ReadOnlySpan<byte> encoded, Span<float> destination)
    {
        if (destination.Length != ValuesPerSample)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; the model input needs {ValuesPerSample}.", nameof(destination));
        }
        byte[] pixels = ArrayPool<byte>.Shared.Rent(ValuesPerSample);
        try
        {
            var sample = pixels.AsSpan(0, ValuesPerSample);
            var info = Decoder.Decode(encoded, Target, sample);
            Normalization.Apply(sample, destination);
            return info;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }
}
