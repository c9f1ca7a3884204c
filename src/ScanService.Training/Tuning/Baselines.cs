namespace ScanService.Training.Tuning;

/// <summary>One point of the MSDNet budgeted curve.</summary>
/// <param name="Budget">Target mean relative cost.</param>
/// <param name="Q">Ratio of the geometric exit distribution (q_k ∝ Q^k) whose expected cost is the budget.</param>
/// <param name="TargetShares">The planned share of samples per exit.</param>
/// <param name="Point">What the derived thresholds actually do on the outputs.</param>
public sealed record MsdNetBudgetedPoint(double Budget, double Q, double[] TargetShares, EvaluatedPoint Point);

/// <summary>
/// The comparisons the genetic search has to beat, evaluated on the same outputs by the same simulator.
/// </summary>
public static class Baselines
{
    /// <summary>One threshold shared by every exit, swept over 0, step, 2·step, ..., 1.</summary>
    public static IReadOnlyList<EvaluatedPoint> SharedThresholdSweep(ExitOutputs outputs, double step = 0.005)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (!(step > 0 && step <= 1))
            throw new ArgumentOutOfRangeException(nameof(step), step, "Step must be in (0, 1].");
        // Index-based grid: accumulating the step would drift and could miss 1.0.
        int steps = (int)Math.Round(1.0 / step);
        var points = new List<EvaluatedPoint>(steps + 1);
        var thresholds = new float[outputs.ExitCount];
        for (int i = 0; i <= steps; i++)
        {
            Array.Fill(thresholds, (float)Math.Min(1.0, i * step));
            points.Add(EarlyExitSimulator.Evaluate(outputs, thresholds, PointSources.Grid));
        }
        return points;
    }

    /// <summary>Each exit on its own: every sample answers at exit k (the chain's cost up to k, heads included).</summary>
    public static IReadOnlyList<EvaluatedPoint> SingleExits(ExitOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var points = new EvaluatedPoint[outputs.ExitCount];
        for (int k = 0; k < points.Length; k++)
            points[k] = EarlyExitSimulator.Evaluate(outputs, EarlyExitSimulator.OnlyExit(k, outputs.ExitCount), PointSources.SingleExit(k));
        return points;
    }

    /// <summary>
    /// The monolithic full-depth graph: the deepest exit's answers at relative cost 1 (no attention modules or
    /// shallow heads run). It is what a user serves without early exit, so every tolerance is measured from it.
    /// </summary>
    public static EvaluatedPoint FullDepth(ExitOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int e = outputs.ExitCount;
        float[] thresholds = EarlyExitSimulator.OnlyExit(e - 1, e);
        var shares = new double[e];
        shares[e - 1] = 1;
        return new EvaluatedPoint(thresholds, outputs.ExitAccuracy(e - 1), 1.0, shares, PointSources.FullDepth);
    }

    /// <summary>MSDNet's exit distribution: q_k ∝ q^k for k = 1..E, normalised.</summary>
    public static double[] GeometricExitShares(double q, int exitCount)
    {
        if (!(q > 0) || double.IsInfinity(q))
            throw new ArgumentOutOfRangeException(nameof(q), q, "q must be positive and finite.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exitCount);
        return GeometricFromLog(Math.Log(q), exitCount);
    }

    /// <summary>
    /// MSDNet-style budgeted thresholds ("budgeted batch classification", Huang et al. 2018): find q so that the
    /// geometric exit distribution's expected cost equals <paramref name="budget"/>, then at each exit set θ_k to
    /// the confidence quantile of the samples still alive that lets the planned share out.
    /// Budgets outside [cost of exit 1, cost of exit E] are clamped to that range.
    /// </summary>
    public static MsdNetBudgetedPoint MsdNetForBudget(ExitOutputs outputs, double budget)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (double.IsNaN(budget))
            throw new ArgumentOutOfRangeException(nameof(budget), budget, "Budget is NaN.");
        int e = outputs.ExitCount;
        var costs = new double[e];
        for (int k = 0; k < e; k++)
            costs[k] = outputs.RelativeCost(k);

        // Expected cost rises with q (mass moves deeper), so bisect on log q; ±60 reaches all mass at one end.
        double lo = -60, hi = 60;
        for (int it = 0; it < 200 && hi - lo > 1e-12; it++)
        {
            double mid = 0.5 * (lo + hi);
            if (ExpectedCost(GeometricFromLog(mid, e), costs) < budget)
                lo = mid;
            else
                hi = mid;
        }
        double logQ = 0.5 * (lo + hi);
        double[] shares = GeometricFromLog(logQ, e);
        float[] thresholds = MsdNetThresholds(outputs, shares);
        return new MsdNetBudgetedPoint(budget, Math.Exp(logQ), shares, EarlyExitSimulator.Evaluate(outputs, thresholds, PointSources.MsdNet));
    }

    /// <summary>The budgeted curve: <paramref name="budgets"/> budgets evenly spaced from exit 1's cost to exit E's.</summary>
    public static IReadOnlyList<MsdNetBudgetedPoint> MsdNetSweep(ExitOutputs outputs, int budgets = 50)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgets, 2);
        double first = outputs.RelativeCost(0);
        double last = outputs.RelativeCost(outputs.ExitCount - 1);
        var points = new MsdNetBudgetedPoint[budgets];
        for (int i = 0; i < budgets; i++)
            points[i] = MsdNetForBudget(outputs, first + ((last - first) * i / (budgets - 1)));
        return points;
    }

    /// <summary>
    /// Thresholds that let <paramref name="targetShares"/>[k] of all samples out at exit k, taking at each exit the
    /// most confident of those still alive. Counts are planned cumulatively (round(N·Σ shares) minus those already
    /// out), so rounding and ties at one exit are made up at the next instead of adding up.
    /// </summary>
    public static float[] MsdNetThresholds(ExitOutputs outputs, ReadOnlySpan<double> targetShares)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int e = outputs.ExitCount;
        int n = outputs.SampleCount;
        if (targetShares.Length != e)
            throw new ArgumentException($"Expected {e} shares, got {targetShares.Length}.", nameof(targetShares));
        ReadOnlySpan<float> confidence = outputs.Confidences;
        var thresholds = new float[e];
        var alive = new bool[n];
        Array.Fill(alive, true);
        int aliveCount = n;
        var buffer = new float[n];
        double planned = 0;
        for (int k = 0; k < e - 1; k++)
        {
            planned += targetShares[k];
            int want = (int)Math.Round(planned * n) - (n - aliveCount);
            float theta;
            if (want <= 0)
                theta = EarlyExitSimulator.NeverExit;
            else if (want >= aliveCount)
                theta = 0f;
            else
            {
                int m = 0;
                for (int s = 0; s < n; s++)
                {
                    if (alive[s])
                        buffer[m++] = confidence[(s * e) + k];
                }
                Array.Sort(buffer, 0, m);
                // The want-th largest: samples at or above it leave (ties may let a few more out).
                theta = buffer[m - want];
            }
            thresholds[k] = theta;
            for (int s = 0; s < n; s++)
            {
                if (alive[s] && confidence[(s * e) + k] >= theta)
                {
                    alive[s] = false;
                    aliveCount--;
                }
            }
        }
        return thresholds;
    }

    private static double[] GeometricFromLog(double logQ, int exitCount)
    {
        // Weights exp(k·log q) shifted by their maximum: stable for any q.
        double maxExponent = logQ >= 0 ? exitCount * logQ : logQ;
        var p = new double[exitCount];
        double sum = 0;
        for (int k = 0; k < exitCount; k++)
        {
            p[k] = Math.Exp(((k + 1) * logQ) - maxExponent);
            sum += p[k];
        }
        for (int k = 0; k < exitCount; k++)
            p[k] /= sum;
        return p;
    }

    private static double ExpectedCost(double[] shares, double[] costs)
    {
        double c = 0;
        for (int k = 0; k < shares.Length; k++)
            c += shares[k] * costs[k];
        return c;
    }
}
