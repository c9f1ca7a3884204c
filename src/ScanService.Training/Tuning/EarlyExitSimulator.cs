using ScanService.Core.Inference;

namespace ScanService.Training.Tuning;

/// <summary>Outcome of running a threshold set over recorded outputs.</summary>
/// <param name="SampleCount">N.</param>
/// <param name="CorrectCount">Samples whose answering exit was right.</param>
/// <param name="ExitCounts">Samples answered by each exit.</param>
/// <param name="MeanCost">Mean multiply-adds per sample.</param>
/// <param name="RelativeCost">Mean multiply-adds relative to the monolithic graph.</param>
public sealed record SimulationResult(int SampleCount, int CorrectCount, int[] ExitCounts, double MeanCost, double RelativeCost)
{
    public double Accuracy => (double)CorrectCount / SampleCount;

    public double[] ExitShares
    {
        get
        {
            var shares = new double[ExitCounts.Length];
            for (int k = 0; k < shares.Length; k++)
                shares[k] = (double)ExitCounts[k] / SampleCount;
            return shares;
        }
    }
}

/// <summary>
/// Replays the service's exit rule (<see cref="ExitRule"/>: a sample leaves at the first exit k whose confidence is at
/// least θ[k]; the deepest exit always answers and its threshold is ignored) over recorded confidences. Cost of a
/// sample is the cumulative cost of the exit it left at (that already counts the heads that ran without firing), less
/// the heads of the exits the threshold set switches off (θ above 1), which the engine does not run
/// (<see cref="ExitRule.NeedsHead"/>), when the outputs know each head's cost.
/// </summary>
public static class EarlyExitSimulator
{
    /// <inheritdoc cref="ExitRule.NeverExit"/>
    public const float NeverExit = ExitRule.NeverExit;

    /// <summary>
    /// Allocation-free core used by every search. <paramref name="thresholds"/> has E entries (the last ignored)
    /// or E-1 (a genome). Fills <paramref name="exitCounts"/> (length E) and returns the number of correct answers.
    /// </summary>
    public static int Run(ExitOutputs outputs, ReadOnlySpan<float> thresholds, Span<int> exitCounts)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int e = outputs.ExitCount;
        CheckThresholds(thresholds, e);
        if (exitCounts.Length != e)
            throw new ArgumentException($"Expected {e} exit counters, got {exitCounts.Length}.", nameof(exitCounts));
        exitCounts.Clear();

        float[] confidence = outputs.ConfidenceArray;
        bool[] correct = outputs.CorrectArray;
        int n = outputs.SampleCount;
        int last = e - 1;
        int hits = 0;
        // Thresholds copied to a stack buffer: keeps the inner loop on locals and bounds-check friendly.
        Span<float> theta = stackalloc float[e];
        thresholds[..last].CopyTo(theta);
        theta[last] = float.NegativeInfinity;

        int row = 0;
        for (int s = 0; s < n; s++, row += e)
        {
            int k = 0;
            // The deepest exit's threshold is -∞: it always answers.
            while (!ExitRule.Leaves(confidence[row + k], theta[k]))
                k++;
            exitCounts[k]++;
            if (correct[row + k])
                hits++;
        }
        return hits;
    }

    /// <summary>Cost-weighted totals from per-exit counts under <paramref name="thresholds"/>; exact integer arithmetic so results never depend on summation order.</summary>
    public static double RelativeCost(ExitOutputs outputs, ReadOnlySpan<int> exitCounts, ReadOnlySpan<float> thresholds)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return MeanCost(outputs, exitCounts, thresholds) / outputs.ReferenceCost;
    }

    public static double MeanCost(ExitOutputs outputs, ReadOnlySpan<int> exitCounts, ReadOnlySpan<float> thresholds)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ReadOnlySpan<long> cost = outputs.CumulativeCost;
        ReadOnlySpan<long> head = outputs.HeadCost;
        Int128 total = 0;
        long skipped = 0;
        for (int k = 0; k < exitCounts.Length; k++)
        {
            total += (Int128)exitCounts[k] * (cost[k] - skipped);
            // Exit k switched off: its head never runs, for samples that leave deeper.
            if (!head.IsEmpty && k < exitCounts.Length - 1 && ExitRule.SwitchedOff(thresholds[k]))
                skipped += head[k];
        }
        return (double)total / outputs.SampleCount;
    }

    public static SimulationResult Simulate(ExitOutputs outputs, ReadOnlySpan<float> thresholds)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var counts = new int[outputs.ExitCount];
        int hits = Run(outputs, thresholds, counts);
        double mean = MeanCost(outputs, counts, thresholds);
        return new SimulationResult(outputs.SampleCount, hits, counts, mean, mean / outputs.ReferenceCost);
    }

    /// <summary>Simulates and packages the result as a candidate point with a full-length threshold vector (last = 0).</summary>
    public static EvaluatedPoint Evaluate(ExitOutputs outputs, ReadOnlySpan<float> thresholds, string source)
    {
        SimulationResult r = Simulate(outputs, thresholds);
        return new EvaluatedPoint(FullThresholds(thresholds, outputs.ExitCount), r.Accuracy, r.RelativeCost, r.ExitShares, source);
    }

    /// <summary>0-based exit each sample leaves at (for per-class statistics).</summary>
    public static int[] ExitTaken(ExitOutputs outputs, ReadOnlySpan<float> thresholds)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int e = outputs.ExitCount;
        CheckThresholds(thresholds, e);
        ReadOnlySpan<float> confidence = outputs.Confidences;
        var taken = new int[outputs.SampleCount];
        for (int s = 0; s < taken.Length; s++)
        {
            int k = 0;
            // The deepest exit always answers; a genome has no threshold for it.
            while (k < e - 1 && !ExitRule.Leaves(confidence[(s * e) + k], thresholds[k]))
                k++;
            taken[s] = k;
        }
        return taken;
    }

    /// <summary>
    /// Widens a genome (E-1 values) or copies a full vector to E values with the ignored last set to 0; a threshold
    /// above 1, which no softmax maximum reaches, is written as <see cref="NeverExit"/> so that a manifest says so plainly.
    /// </summary>
    public static float[] FullThresholds(ReadOnlySpan<float> thresholds, int exitCount)
    {
        CheckThresholds(thresholds, exitCount);
        var full = new float[exitCount];
        thresholds[..(exitCount - 1)].CopyTo(full);
        for (int k = 0; k < exitCount - 1; k++)
        {
            if (ExitRule.SwitchedOff(full[k])) full[k] = NeverExit;
        }
        full[exitCount - 1] = 0f;
        return full;
    }

    /// <summary>Thresholds that make every sample leave at <paramref name="exit"/> (0-based).</summary>
    public static float[] OnlyExit(int exit, int exitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(exit, exitCount);
        var t = new float[exitCount];
        for (int k = 0; k < exit; k++)
            t[k] = NeverExit;
        // 0 lets everything out at this exit; deeper values never matter.
        return t;
    }

    private static void CheckThresholds(ReadOnlySpan<float> thresholds, int exitCount)
    {
        if (thresholds.Length != exitCount && thresholds.Length != exitCount - 1)
            throw new ArgumentException($"Expected {exitCount} or {exitCount - 1} thresholds, got {thresholds.Length}.", nameof(thresholds));
        for (int k = 0; k < exitCount - 1; k++)
        {
            if (float.IsNaN(thresholds[k]))
                throw new ArgumentException($"Threshold of exit {k + 1} is NaN.", nameof(thresholds));
        }
    }
}
