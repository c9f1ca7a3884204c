using ScanService.Core.Bundle;

namespace ScanService.Core.Preprocessing;

/// <summary>
/// Turns raw channel-major bytes into network input: <c>(x / 255 - mean[c]) / std[c]</c> per channel, in float.
/// The trainer's batches and the service's requests both go through this class, so the two cannot drift apart.
/// </summary>
/// <remarks>A byte has 256 values, so each channel's results are computed once into a table; applying is a lookup.</remarks>
public sealed class ChannelNormalization
{
    private const int Levels = 256;
    private readonly float[] _table;

    public ChannelNormalization(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
        {
            throw new ArgumentException($"Need one mean and one std per channel; got {mean.Count} mean(s) and {std.Count} std(s).");
        }
        for (int c = 0; c < std.Count; c++)
        {
            if (!float.IsFinite(mean[c])) throw new ArgumentException($"Mean of channel {c} is {mean[c]}.", nameof(mean));
            if (!float.IsFinite(std[c]) || std[c] <= 0) throw new ArgumentException($"Std of channel {c} is {std[c]}; it must be positive.", nameof(std));
        }

        Mean = [.. mean];
        Std = [.. std];
        _table = new float[Channels * Levels];
        for (int c = 0; c < Channels; c++)
        {
            for (int v = 0; v < Levels; v++)
            {
                _table[c * Levels + v] = (v / 255f - Mean[c]) / Std[c];
            }
        }
    }

    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }
    public int Channels => Mean.Count;

    public static ChannelNormalization For(InputSpec input)
    {
        if (input.Mean.Count != input.Channels || input.Std.Count != input.Channels)
        {
            throw new ArgumentException(
                $"Input spec has {input.Channels} channel(s) but {input.Mean.Count} mean(s) and {input.Std.Count} std(s).", nameof(input));
        }
        return new ChannelNormalization(input.Mean, input.Std);
    }

    /// <summary>The normalised value of byte <paramref name="value"/> in channel <paramref name="channel"/>.</summary>
    public float this[int channel, byte value] => _table[channel * Levels + value];

    /// <summary>Normalises one sample: <see cref="Channels"/> planes of equal size, written to a destination of the same length.</summary>
    public void Apply(ReadOnlySpan<byte> planes, Span<float> destination)
    {
        if (destination.Length != planes.Length)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values for {planes.Length} pixels.", nameof(destination));
        }
        if (planes.Length % Channels != 0)
        {
            throw new ArgumentException($"{planes.Length} pixels do not split into {Channels} equal planes.", nameof(planes));
        }
        int plane = planes.Length / Channels;
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<float> table = _table.AsSpan(c * Levels, Levels);
            var source = planes.Slice(c * plane, plane);
            var target = destination.Slice(c * plane, plane);
            for (int i = 0; i < source.Length; i++)
            {
                target[i] = table[source[i]];
            }
        }
    }
}
