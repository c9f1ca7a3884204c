using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class GeneticThresholdSearchTests
{
    private const int Samples = 2000;

    /// <summary>At most this much relative cost above the closed-form optimum (about 14 of 2000 samples sent one exit too deep).</summary>
    private const double CostTolerance = 0.002;

    [Theory]
    [InlineData(42)]
    [InlineData(7)]
    [InlineData(123456)]
    public void FindsFullAccuracyAtTheCostOfLettingExactlyTheEasySamplesOut(int seed)
    {
        ExitOutputs o = TuningTestData.EasyHard(Samples, 0.4, seed: 11, out int easy);
        double optimum = TuningTestData.EasyHardOptimalCost(Samples, easy);

        GeneticSearchResult r = new GeneticThresholdSearch(new GeneticSearchOptions { Seed = seed }).Run(o);

        EvaluatedPoint? best = r.Front.CheapestWithAccuracy(1.0);
        Assert.NotNull(best);
        Assert.Equal(1.0, best.Accuracy);
        Assert.InRange(best.RelativeCost, optimum - 1e-12, optimum + CostTolerance);
        // Exactly the easy samples leave at exit 1.
        Assert.Equal((double)easy / Samples, best.ExitShares[0], 12);
        Assert.InRange(best.Thresholds[0], 0.59f, 0.8f);
    }

    [Fact]
    public void SameSeed_GivesIdenticalFront()
    {
        ExitOutputs o = TuningTestData.Realistic(3000, seed: 2);
        var options = new GeneticSearchOptions { Seed = 99, Generations = 40 };
        GeneticSearchResult a = new GeneticThresholdSearch(options).Run(o);
        GeneticSearchResult b = new GeneticThresholdSearch(options).Run(o);

        Assert.Equal(a.Evaluations, b.Evaluations);
        Assert.Equal(a.Front.Count, b.Front.Count);
        for (int i = 0; i < a.Front.Count; i++)
        {
            Assert.Equal(a.Front.Points[i].Thresholds, b.Front.Points[i].Thresholds);
            Assert.Equal(a.Front.Points[i].Accuracy, b.Front.Points[i].Accuracy);
            Assert.Equal(a.Front.Points[i].RelativeCost, b.Front.Points[i].RelativeCost);
        }
    }

    [Fact]
    public void DifferentSeeds_ExploreDifferently()
    {
        ExitOutputs o = TuningTestData.Realistic(3000, seed: 2);
        GeneticSearchResult a = new GeneticThresholdSearch(new GeneticSearchOptions { Seed = 1, Generations = 20 }).Run(o);
        GeneticSearchResult b = new GeneticThresholdSearch(new GeneticSearchOptions { Seed = 2, Generations = 20 }).Run(o);
        bool differ = a.Front.Count != b.Front.Count
            || a.Front.Points.Zip(b.Front.Points).Any(t => !t.First.Thresholds.SequenceEqual(t.Second.Thresholds));
        Assert.True(differ);
    }

    [Fact]
    public void ArchiveFrontIsMonotone_AndAtLeastAsGoodAsTheGrid()
    {
        ExitOutputs o = TuningTestData.Realistic(4000, seed: 8);
        GeneticSearchResult r = new GeneticThresholdSearch().Run(o);
        ParetoFrontTests.AssertMonotone(r.Front);
        Assert.All(r.Front.Points, p => Assert.Equal(PointSources.Genetic, p.Source));
        // A threshold is a probability, or the marker of an exit switched off.
        Assert.All(r.Front.Points, p => Assert.All(p.Thresholds, t => Assert.True(t is >= 0f and <= 1f || t == EarlyExitSimulator.NeverExit, $"threshold {t}")));

        // Per-exit thresholds generalise one shared threshold, so the front should cover more area than the grid's.
        var grid = new ParetoFront(Baselines.SharedThresholdSweep(o));
        double maxCost = o.RelativeCost(3);
        Assert.True(r.Front.Hypervolume(maxCost) >= grid.Hypervolume(maxCost) - 1e-3,
            $"GA {r.Front.Hypervolume(maxCost):0.0000} vs grid {grid.Hypervolume(maxCost):0.0000}");
    }

    [Fact]
    public void ReportsProgressEveryGeneration()
    {
        ExitOutputs o = TuningTestData.Realistic(500, seed: 4);
        var recorder = new TuningTestData.Recorder<GeneticSearchProgress>();
        var options = new GeneticSearchOptions { Generations = 15, PopulationSize = 20 };
        GeneticSearchResult r = new GeneticThresholdSearch(options).Run(o, recorder);

        Assert.Equal(16, recorder.Reports.Count);
        Assert.Equal(Enumerable.Range(0, 16), recorder.Reports.Select(p => p.Generation));
        Assert.All(recorder.Reports, p => Assert.Equal(15, p.Generations));
        Assert.All(recorder.Reports, p => Assert.True(p.FrontSize > 0));
        Assert.Equal(r.Front.Count, recorder.Reports[^1].FrontSize);
        Assert.Equal(20 + (15 * 20), r.Evaluations);
        Assert.Equal(r.Evaluations, recorder.Reports[^1].Evaluations);
    }

    [Fact]
    public void UniformCrossover_AlsoFindsTheOptimum()
    {
        ExitOutputs o = TuningTestData.EasyHard(Samples, 0.3, seed: 12, out int easy);
        double optimum = TuningTestData.EasyHardOptimalCost(Samples, easy);
        GeneticSearchResult r = new GeneticThresholdSearch(new GeneticSearchOptions { Crossover = CrossoverKind.Uniform, Seed = 5 }).Run(o);
        EvaluatedPoint? best = r.Front.CheapestWithAccuracy(1.0);
        Assert.NotNull(best);
        Assert.InRange(best.RelativeCost, optimum - 1e-12, optimum + CostTolerance);
    }

    [Fact]
    public void Cancellation_IsHonoured()
    {
        ExitOutputs o = TuningTestData.Realistic(500, seed: 4);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => new GeneticThresholdSearch().Run(o, null, cts.Token));
    }

    [Fact]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeneticThresholdSearch(new GeneticSearchOptions { PopulationSize = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeneticThresholdSearch(new GeneticSearchOptions { MutationRate = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeneticThresholdSearch(new GeneticSearchOptions { MutationSigma = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeneticThresholdSearch(new GeneticSearchOptions { TournamentSize = 0 }));
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var o = new GeneticSearchOptions();
        Assert.Equal(64, o.PopulationSize);
        Assert.Equal(100, o.Generations);
        Assert.Equal(0.9, o.CrossoverRate);
        Assert.Equal(0.2, o.MutationRate);
        Assert.Equal(0.1, o.MutationSigma);
    }
}
