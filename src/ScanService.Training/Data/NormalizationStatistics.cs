using ScanService.Core.Preprocessing;

namespace ScanService.Training.Data;

/// <summary>
/// Per-channel mean and standard deviation of pixel values scaled to [0, 1]: what the manifest's input
/// spec records and <see cref="ChannelNormalization"/> applies. Computed on the training split only.
/// </summary>
public sealed record NormalizationStatistics(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>Exact statistics over every pixel of every sample (population standard deviation).</summary>
    public static NormalizationStatistics Compute(ImageDataset training)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (training.Count == 0) throw new ArgumentException("Statistics need at least one sample.", nameof(training));

        // A histogram of byte values per channel makes the sums exact integers, whatever the dataset size.
        int plane = training.Height * training.Width;
        var histogram = new long[training.Channels, 256];
        var pixels = training.Pixels.AsSpan();
        for (int sample = 0; sample < training.Count; sample++)
        {
            for (int c = 0; c < training.Channels; c++)
            {
                foreach (byte v in pixels.Slice((sample * training.Channels + c) * plane, plane))
                {
                    histogram[c, v]++;
                }
            }
        }

        var mean = new float[training.Channels];
        var std = new float[training.Channels];
        double n = (double)training.Count * plane;
        for (int c = 0; c < training.Channels; c++)
        {
            double sum = 0, sumOfSquares = 0;
            for (int v = 0; v < 256; v++)
            {
                double x = v / 255.0;
                sum += x * histogram[c, v];
                sumOfSquares += x * x * histogram[c, v];
            }
            double m = sum / n;
            double s = Math.Sqrt(Math.Max(0, sumOfSquares / n - m * m));
            mean[c] = (float)m;
            // A constant channel carries no information; dividing by 1 keeps it centred instead of infinite.
            std[c] = s < 1e-6 ? 1f : (float)s;
        }
        return new NormalizationStatistics(mean, std);
    }

    public ChannelNormalization ToNormalization() => new(Mean, Std);
}
