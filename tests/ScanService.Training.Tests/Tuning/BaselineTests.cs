using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class BaselineTests
{
    [Theory]
    [InlineData(0.30)]
    [InlineData(0.45)]
    [InlineData(0.60)]
    [InlineData(0.80)]
    [InlineData(1.00)]
    public void MsdNetThresholds_HitTheirBudget(double budget)
    {
        ExitOutputs o = TuningTestData.Realistic(5000, seed: 21);
        MsdNetBudgetedPoint m = Baselines.MsdNetForBudget(o, budget);

        // The geometric plan itself costs exactly the budget...
        double planned = 0;
        for (int k = 0; k < 4; k++)
            planned += m.TargetShares[k] * o.RelativeCost(k);
        Assert.Equal(budget, planned, 6);
        // ...and the quantile thresholds realise it on the data up to rounding of counts.
        Assert.InRange(m.Point.RelativeCost, budget - 0.005, budget + 0.005);
        for (int k = 0; k < 4; k++)
            Assert.InRange(m.Point.ExitShares[k], m.TargetShares[k] - 0.002, m.TargetShares[k] + 0.002);
    }

    [Fact]
    public void MsdNet_ClampsBudgetsOutsideTheReachableRange()
    {
        ExitOutputs o = TuningTestData.Realistic(1000, seed: 21);
        Assert.Equal(1.0, Baselines.MsdNetForBudget(o, 0.01).Point.ExitShares[0], 6);
        Assert.Equal(1.0, Baselines.MsdNetForBudget(o, 5).Point.ExitShares[3], 6);
    }

    [Fact]
    public void GeometricShares_AreNormalisedAndGeometric()
    {
        double[] p = Baselines.GeometricExitShares(0.5, 4);
        Assert.Equal(1.0, p.Sum(), 12);
        for (int k = 1; k < 4; k++)
            Assert.Equal(0.5, p[k] / p[k - 1], 12);
        Assert.Equal([0.25, 0.25, 0.25, 0.25], Baselines.GeometricExitShares(1, 4));
        Assert.Equal(1.0, Baselines.GeometricExitShares(1e-30, 4)[0], 12);
    }

    [Fact]
    public void MsdNetSweep_CostsRiseWithBudget()
    {
        ExitOutputs o = TuningTestData.Realistic(3000, seed: 22);
        IReadOnlyList<MsdNetBudgetedPoint> sweep = Baselines.MsdNetSweep(o, 20);
        Assert.Equal(20, sweep.Count);
        Assert.Equal(o.RelativeCost(0), sweep[0].Budget, 12);
        Assert.Equal(o.RelativeCost(3), sweep[^1].Budget, 12);
        for (int i = 1; i < sweep.Count; i++)
            Assert.True(sweep[i].Point.RelativeCost >= sweep[i - 1].Point.RelativeCost - 1e-9);
        Assert.All(sweep, m => Assert.Equal(PointSources.MsdNet, m.Point.Source));
    }

    [Fact]
    public void GridSweep_Has201PointsFromZeroToOne()
    {
        ExitOutputs o = TuningTestData.Realistic(1000, seed: 23);
        IReadOnlyList<EvaluatedPoint> grid = Baselines.SharedThresholdSweep(o);
        Assert.Equal(201, grid.Count);
        Assert.Equal([0f, 0f, 0f, 0f], grid[0].Thresholds);
        Assert.Equal([1f, 1f, 1f, 0f], grid[^1].Thresholds);
        Assert.Equal(o.RelativeCost(0), grid[0].RelativeCost, 12);
        // A higher shared threshold only ever sends samples deeper.
        for (int i = 1; i < grid.Count; i++)
            Assert.True(grid[i].RelativeCost >= grid[i - 1].RelativeCost);
    }

    [Fact]
    public void SingleExitsAndFullDepth()
    {
        ExitOutputs o = TuningTestData.Realistic(1000, seed: 24);
        IReadOnlyList<EvaluatedPoint> single = Baselines.SingleExits(o);
        Assert.Equal(4, single.Count);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(o.ExitAccuracy(k), single[k].Accuracy, 12);
            Assert.Equal(o.RelativeCost(k), single[k].RelativeCost, 12);
            Assert.Equal(1.0, single[k].ExitShares[k]);
            Assert.Equal($"exit-{k + 1}", single[k].Source);
        }
        EvaluatedPoint full = Baselines.FullDepth(o);
        Assert.Equal(o.ExitAccuracy(3), full.Accuracy, 12);
        Assert.Equal(1.0, full.RelativeCost);
    }
}
