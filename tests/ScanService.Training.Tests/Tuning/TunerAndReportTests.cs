using System.Text.Json;
using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class TunerAndReportTests
{
    private static TuningResult Run(ExitOutputs o) =>
        ThresholdTuner.Run(o, new TuningOptions { Genetic = new GeneticSearchOptions { Generations = 30 }, MsdNetBudgets = 25 });

    [Fact]
    public void Tuner_RunsEveryMethod_AndPicksBalancedByDefault()
    {
        ExitOutputs o = TuningTestData.Realistic(3000, seed: 31);
        TuningResult r = Run(o);

        Assert.Equal(201, r.GridSweep.Count);
        Assert.Equal(25, r.MsdNet.Count);
        Assert.Equal(4, r.SingleExits.Count);
        Assert.Equal("balanced", r.DefaultOperatingPoint);
        Assert.Same(r.Find("balanced"), r.Default);
        ParetoFrontTests.AssertMonotone(r.SelectionFront);

        double full = r.FullDepth.Accuracy;
        NamedOperatingPoint balanced = r.Default;
        Assert.True(balanced.ValidationAccuracy >= full - 0.005 - 1e-12);
        Assert.True(r.Find("fast")!.RelativeCost <= balanced.RelativeCost);
        Assert.True(r.Find("accurate")!.ValidationAccuracy >= balanced.ValidationAccuracy);
        // The operating points report what the simulator says about their thresholds.
        foreach (NamedOperatingPoint p in r.OperatingPoints)
        {
            SimulationResult s = EarlyExitSimulator.Simulate(o, p.Thresholds);
            Assert.Equal(s.Accuracy, p.ValidationAccuracy, 12);
            Assert.Equal(s.RelativeCost, p.RelativeCost, 12);
        }
    }

    [Fact]
    public void Report_MarkdownHasOneRowPerMethod_AndJsonRoundTrips()
    {
        ExitOutputs o = TuningTestData.Realistic(2000, seed: 32);
        TuningResult r = Run(o);
        TuningReport report = TuningReport.Create(r);

        Assert.Equal(3 + 4 + 1, report.Methods.Count);
        string md = report.ToMarkdown();
        Assert.Contains("| GA front |", md, StringComparison.Ordinal);
        Assert.Contains("| Shared threshold (grid) |", md, StringComparison.Ordinal);
        Assert.Contains("| MSDNet budgeted |", md, StringComparison.Ordinal);
        Assert.Contains("| Exit 4 only |", md, StringComparison.Ordinal);
        Assert.Contains("| Full depth (monolithic) |", md, StringComparison.Ordinal);
        Assert.Contains("**balanced** (default)", md, StringComparison.Ordinal);
        Assert.Contains("Best acc. @ cost ≤ 0.3", md, StringComparison.Ordinal);

        using JsonDocument json = JsonDocument.Parse(report.ToJson());
        JsonElement root = json.RootElement;
        Assert.Equal(8, root.GetProperty("methods").GetArrayLength());
        Assert.Equal(3, root.GetProperty("operatingPoints").GetArrayLength());
        Assert.Equal("balanced", root.GetProperty("defaultOperatingPoint").GetString());
        Assert.Equal(r.FullDepth.Accuracy, root.GetProperty("fullDepthAccuracy").GetDouble(), 12);

        // Full depth reaches its own target at cost 1; exit 1 alone is far below it.
        MethodSummary fullRow = report.Methods[^1];
        Assert.Equal(1.0, fullRow.CostToReachTarget);
        Assert.Null(report.Methods[3].CostToReachTarget);
    }

    [Fact]
    public void Report_NumbersComeFromTheFronts()
    {
        ExitOutputs o = TuningTestData.Realistic(2000, seed: 33);
        TuningResult r = Run(o);
        TuningReport report = TuningReport.Create(r, [0.5]);
        MethodSummary ga = report.Methods[0];
        Assert.Equal(r.GeneticFront.BestAccuracyAtCost(0.5)?.Accuracy, ga.BestAccuracyAtCost[0]);
        Assert.Equal(r.GeneticFront.CheapestWithAccuracy(report.TargetAccuracy - 1e-12)?.RelativeCost, ga.CostToReachTarget);
        Assert.Equal(r.GeneticFront.MostAccurate!.Accuracy, ga.MaxAccuracy);
    }

    [Fact]
    public void EasyHard_BalancedIsTheKnownOptimum()
    {
        ExitOutputs o = TuningTestData.EasyHard(2000, 0.5, seed: 34, out int easy);
        double optimum = TuningTestData.EasyHardOptimalCost(2000, easy);

        // With no tolerance, balanced must be full-depth (100 %) accuracy at the optimal cost.
        TuningResult exact = ThresholdTuner.Run(o, new TuningOptions { OperatingPoints = new OperatingPointOptions { BalancedTolerancePoints = 0 } });
        Assert.Equal(1.0, exact.Default.ValidationAccuracy);
        Assert.InRange(exact.Default.RelativeCost, optimum - 1e-12, optimum + 0.002);

        // The default 0.5 points may trade up to 10 of 2000 answers for cost, never more.
        TuningResult relaxed = ThresholdTuner.Run(o);
        Assert.InRange(relaxed.Default.ValidationAccuracy, 0.995 - 1e-12, 1.0);
        Assert.True(relaxed.Default.RelativeCost <= exact.Default.RelativeCost);
    }
}
