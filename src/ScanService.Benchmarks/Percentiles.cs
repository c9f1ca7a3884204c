namespace ScanService.Benchmarks;

/// <summary>The one percentile every report of the tool uses.</summary>
public static class Percentiles
{
    /// <summary>Nearest-rank percentile <paramref name="p"/> (0.99: p99) of values already sorted ascending; NaN for none.</summary>
    public static double NearestRank(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
