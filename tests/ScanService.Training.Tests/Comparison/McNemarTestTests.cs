using ScanService.Training.Comparison;

namespace ScanService.Training.Tests.Comparison;

public sealed class McNemarTestTests
{
    [Fact]
    public void The_exact_p_value_is_twice_the_binomial_tail_of_the_smaller_discordant_count()
    {
        // n = 12 discordant, k = 2: 2 × (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2 × 79 / 4096.
        Assert.Equal(158.0 / 4096, McNemarTest.ExactTwoSided(10, 2), 12);
        Assert.Equal(158.0 / 4096, McNemarTest.ExactTwoSided(2, 10), 12);
        // An even split, or nothing discordant, is no evidence at all.
        Assert.Equal(1, McNemarTest.ExactTwoSided(7, 7));
        Assert.Equal(1, McNemarTest.ExactTwoSided(0, 0));
        // n = 5, k = 0: 2 / 32.
        Assert.Equal(2.0 / 32, McNemarTest.ExactTwoSided(5, 0), 12);
    }

    [Fact]
    public void Thousands_of_discordant_samples_neither_underflow_nor_lose_the_answer()
    {
        // 2,000 against 1,800: about 3.2 standard deviations apart, two-sided p near 0.0013 (normal approximation).
        var p = McNemarTest.ExactTwoSided(2000, 1800);
        Assert.InRange(p, 0.0008, 0.0020);
        // A split far beyond any chance: tiny but representable.
        Assert.InRange(McNemarTest.ExactTwoSided(3000, 1000), 0, 1e-100);
        Assert.True(McNemarTest.ExactTwoSided(3000, 1000) >= 0);
    }

    [Fact]
    public void Compare_counts_each_cell_and_reports_both_accuracies()
    {
        bool[] a = [true, true, true, false, false, true, false];
        bool[] b = [true, false, true, true, false, false, false];
        var r = McNemarTest.Compare(a, b);

        Assert.Equal((7, 2, 2, 1, 2), (r.Samples, r.BothRight, r.OnlyFirstRight, r.OnlySecondRight, r.BothWrong));
        Assert.Equal(4.0 / 7, r.FirstAccuracy, 12);
        Assert.Equal(3.0 / 7, r.SecondAccuracy, 12);
        Assert.Equal(100.0 / 7, r.DifferencePoints, 9);
        Assert.Equal(1, r.PValue);
        Assert.Throws<ArgumentException>(() => McNemarTest.Compare(a, b.AsSpan(1)));
    }
}
