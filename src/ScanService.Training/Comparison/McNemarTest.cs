namespace ScanService.Training.Comparison;

/// <summary>
/// Two classifiers judged on the same samples: how often each is right where the other is wrong, and whether that
/// difference could be chance. Accuracies alone cannot say: two models 0.3 points apart on 10,000 images may differ
/// on 40 images or on 400.
/// </summary>
/// <param name="Samples">Samples both were judged on.</param>
/// <param name="BothRight">Right in both.</param>
/// <param name="OnlyFirstRight">Right in the first only.</param>
/// <param name="OnlySecondRight">Right in the second only.</param>
/// <param name="BothWrong">Wrong in both.</param>
/// <param name="PValue">
/// McNemar's exact test, two-sided: the chance of a split of the discordant samples at least this uneven if either
/// model were as likely as the other to be the one that is right (a binomial with p = 1/2 over the discordant samples).
/// </param>
public sealed record McNemarResult(int Samples, int BothRight, int OnlyFirstRight, int OnlySecondRight, int BothWrong, double PValue)
{
    public double FirstAccuracy => (double)(BothRight + OnlyFirstRight) / Samples;
    public double SecondAccuracy => (double)(BothRight + OnlySecondRight) / Samples;
    /// <summary>First minus second, in accuracy points.</summary>
    public double DifferencePoints => (FirstAccuracy - SecondAccuracy) * 100;
}

public static class McNemarTest
{
    /// <summary>Compares per-sample correctness of two classifiers on the same samples, in the same order.</summary>
    public static McNemarResult Compare(ReadOnlySpan<bool> first, ReadOnlySpan<bool> second)
    {
        if (first.Length != second.Length)
            throw new ArgumentException($"the two classifiers were judged on {first.Length} and {second.Length} samples; McNemar's test needs the same samples");
        if (first.Length == 0) throw new ArgumentException("no samples to compare");
        int both = 0, onlyFirst = 0, onlySecond = 0, neither = 0;
        for (var i = 0; i < first.Length; i++)
        {
            switch ((first[i], second[i]))
            {
                case (true, true): both++; break;
                case (true, false): onlyFirst++; break;
                case (false, true): onlySecond++; break;
                default: neither++; break;
            }
        }
        return new McNemarResult(first.Length, both, onlyFirst, onlySecond, neither, ExactTwoSided(onlyFirst, onlySecond));
    }

    /// <summary>2 × P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1; summed in logarithms so that thousands of discordant samples do not underflow.</summary>
    public static double ExactTwoSided(int b, int c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        var n = b + c;
        if (n == 0) return 1;
        var k = Math.Min(b, c);
        var half = n * Math.Log(0.5);
        double logChoose = 0, logTail = double.NegativeInfinity;
        for (var i = 0; i <= k; i++)
        {
            if (i > 0) logChoose += Math.Log(n - i + 1) - Math.Log(i);
            logTail = LogAdd(logTail, logChoose + half);
        }
        return Math.Min(1, 2 * Math.Exp(logTail));
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        var (hi, lo) = a > b ? (a, b) : (b, a);
        return hi + double.LogP1(Math.Exp(lo - hi));
    }
}
