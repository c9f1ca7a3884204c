using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class ParetoFrontTests
{
    internal static void AssertMonotone(ParetoFront front)
    {
        for (int i = 1; i < front.Count; i++)
        {
            Assert.True(front.Points[i].RelativeCost > front.Points[i - 1].RelativeCost, $"cost not increasing at {i}");
            Assert.True(front.Points[i].Accuracy > front.Points[i - 1].Accuracy, $"accuracy not increasing at {i}");
        }
    }

    private static EvaluatedPoint P(double cost, double acc, string source = "t") => new([0f], acc, cost, [1.0], source);

    [Fact]
    public void RandomPoints_FrontIsMonotoneAndCoversEveryPoint()
    {
        var rng = new Random(17);
        var points = new List<EvaluatedPoint>();
        for (int i = 0; i < 2000; i++)
        {
            // Coarse values so ties in cost and accuracy occur.
            points.Add(P(Math.Round(rng.NextDouble(), 2), Math.Round(rng.NextDouble(), 2)));
        }
        var front = new ParetoFront(points);
        AssertMonotone(front);
        foreach (EvaluatedPoint p in points)
        {
            // Everything is dominated by or equal to a front point, and nothing dominates a front point.
            Assert.Contains(front.Points, f => f.Accuracy >= p.Accuracy && f.RelativeCost <= p.RelativeCost);
            Assert.DoesNotContain(front.Points, f => p.Dominates(f));
        }
    }

    [Fact]
    public void InsertionOrder_DoesNotChangeTheObjectives()
    {
        var rng = new Random(3);
        var points = Enumerable.Range(0, 500).Select(_ => P(Math.Round(rng.NextDouble(), 3), Math.Round(rng.NextDouble(), 3))).ToList();
        var a = new ParetoFront(points);
        var b = new ParetoFront(Enumerable.Reverse(points));
        Assert.Equal(a.Points.Select(p => (p.RelativeCost, p.Accuracy)), b.Points.Select(p => (p.RelativeCost, p.Accuracy)));
    }

    [Fact]
    public void EqualCost_KeepsTheMoreAccurate_EqualPoint_KeepsTheFirst()
    {
        var front = new ParetoFront();
        Assert.True(front.TryAdd(P(0.5, 0.8, "first")));
        Assert.False(front.TryAdd(P(0.5, 0.8, "second")));
        Assert.True(front.TryAdd(P(0.5, 0.85)));
        Assert.Equal(1, front.Count);
        Assert.Equal(0.85, front.Points[0].Accuracy);
        Assert.False(front.TryAdd(P(0.6, 0.85)));
        Assert.True(front.TryAdd(P(0.4, 0.9)));
        Assert.Equal(1, front.Count);
        Assert.Equal(0.4, front.Points[0].RelativeCost);
    }

    [Fact]
    public void Queries()
    {
        var front = new ParetoFront([P(0.2, 0.7), P(0.4, 0.8), P(0.6, 0.9), P(0.8, 0.95)]);
        Assert.Null(front.BestAccuracyAtCost(0.1));
        Assert.Equal(0.8, front.BestAccuracyAtCost(0.5)!.Accuracy);
        Assert.Equal(0.9, front.BestAccuracyAtCost(0.6)!.Accuracy);
        Assert.Equal(0.6, front.CheapestWithAccuracy(0.85)!.RelativeCost);
        Assert.Equal(0.2, front.CheapestWithAccuracy(0)!.RelativeCost);
        Assert.Null(front.CheapestWithAccuracy(0.99));
        Assert.Equal(0.95, front.MostAccurate!.Accuracy);
        // Area under the staircase up to cost 1: 0.2·0.7 + 0.2·0.8 + 0.2·0.9 + 0.2·0.95.
        Assert.Equal(0.67, front.Hypervolume(1.0), 12);
    }
}
