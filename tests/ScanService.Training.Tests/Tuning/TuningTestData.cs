using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

/// <summary>Synthetic exit outputs whose best thresholds are known in closed form.</summary>
internal static class TuningTestData
{
    /// <summary>Cumulative multiply-adds of exits 1..4 and the monolithic reference.</summary>
    public static readonly long[] Costs = [250, 520, 800, 1100];
    public const long Reference = 1000;

    /// <summary>
    /// Exit 1 is right and confident (&gt; 0.8) exactly on the easy samples and wrong with confidence &lt; 0.6 on the
    /// rest; exits 2..4 are always right with confidence anywhere in [0.3, 1]. The optimum at full accuracy lets
    /// exactly the easy samples out at exit 1 and every other sample at exit 2.
    /// </summary>
    public static ExitOutputs EasyHard(int samples, double easyShare, int seed, out int easyCount)
    {
        var rng = new Random(seed);
        const int e = 4;
        var conf = new float[samples * e];
        var correct = new bool[samples * e];
        easyCount = 0;
        for (int s = 0; s < samples; s++)
        {
            bool easy = rng.NextDouble() < easyShare;
            if (easy)
                easyCount++;
            conf[s * e] = easy ? 0.8f + (0.2f * (float)(1 - rng.NextDouble())) * 0.999f : 0.2f + (0.39f * (float)rng.NextDouble());
            correct[s * e] = easy;
            for (int k = 1; k < e; k++)
            {
                conf[(s * e) + k] = 0.3f + (0.7f * (float)rng.NextDouble());
                correct[(s * e) + k] = true;
            }
        }
        return new ExitOutputs(samples, e, conf, correct, (long[])Costs.Clone(), Reference);
    }

    /// <summary>Optimal relative cost at full accuracy for <see cref="EasyHard"/>.</summary>
    public static double EasyHardOptimalCost(int samples, int easyCount) =>
        ((double)easyCount * Costs[0] + ((double)(samples - easyCount) * Costs[1])) / samples / Reference;

    /// <summary>
    /// Realistic-looking outputs: confidence rises with depth, correctness is likelier at high confidence, and
    /// deeper exits are more accurate on average; continuous values so quantiles are unambiguous.
    /// </summary>
    public static ExitOutputs Realistic(int samples, int seed, int classes = 10, bool withLabels = true)
    {
        var rng = new Random(seed);
        const int e = 4;
        var conf = new float[samples * e];
        var correct = new bool[samples * e];
        var labels = new int[samples];
        for (int s = 0; s < samples; s++)
        {
            double difficulty = rng.NextDouble();
            labels[s] = rng.Next(classes);
            for (int k = 0; k < e; k++)
            {
                double skill = 0.35 + (0.2 * k);
                double c = Math.Clamp(skill + 0.5 * (0.5 - difficulty) + (0.25 * (rng.NextDouble() - 0.5)), 0.1, 1.0);
                conf[(s * e) + k] = (float)c;
                correct[(s * e) + k] = rng.NextDouble() < Math.Clamp(c + 0.05, 0, 1);
            }
        }
        return new ExitOutputs(samples, e, conf, correct, (long[])Costs.Clone(), Reference, withLabels ? labels : null);
    }

    /// <summary>An <see cref="IProgress{T}"/> that records synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    public sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Reports { get; } = [];
        public void Report(T value) => Reports.Add(value);
    }
}
