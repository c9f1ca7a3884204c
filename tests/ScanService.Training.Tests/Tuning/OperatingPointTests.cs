using ScanService.Core.Bundle;
using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class OperatingPointTests
{
    private static EvaluatedPoint P(double cost, double acc) => new([0.5f, 0.6f, 0.7f, 0f], acc, cost, [0.25, 0.25, 0.25, 0.25], "t");

    /// <summary>Full depth 90 %: fast needs ≥ 88 %, balanced ≥ 89.5 % (inclusive).</summary>
    private static ParetoFront Front() => new(
    [
        P(0.20, 0.800),
        P(0.30, 0.875),
        P(0.35, 0.881),
        P(0.50, 0.895),
        P(0.60, 0.8951),
        P(0.70, 0.910),
        P(0.90, 0.910), // same accuracy, costlier: not on the front, so "accurate" is the cheaper one
    ]);

    [Fact]
    public void SelectsByTheDocumentedRules()
    {
        IReadOnlyList<NamedOperatingPoint> ops = OperatingPointSelector.Select(Front(), 0.90);
        Assert.Equal(["fast", "balanced", "accurate"], ops.Select(o => o.Name));
        Assert.Equal(0.35, ops[0].RelativeCost);
        Assert.Equal(0.50, ops[1].RelativeCost); // exactly 0.5 points below counts as within
        Assert.Equal(0.70, ops[2].RelativeCost);
        Assert.Equal(0.910, ops[2].ValidationAccuracy);
    }

    [Fact]
    public void FastToleranceIsAnOption()
    {
        IReadOnlyList<NamedOperatingPoint> ops = OperatingPointSelector.Select(Front(), 0.90, new OperatingPointOptions { FastTolerancePoints = 10 });
        Assert.Equal(0.20, ops[0].RelativeCost);
    }

    [Fact]
    public void NothingCloseEnough_FallsBackToTheMostAccurate()
    {
        IReadOnlyList<NamedOperatingPoint> ops = OperatingPointSelector.Select(Front(), 0.99);
        Assert.All(ops, o => Assert.Equal(0.70, o.RelativeCost));
    }

    [Fact]
    public void ConvertsToTheManifestType_WithTestNumbersWhenGiven()
    {
        ExitOutputs test = TuningTestData.Realistic(1000, seed: 6);
        NamedOperatingPoint op = OperatingPointSelector.Select(Front(), 0.90)[1];

        OperatingPoint plain = op.ToManifest();
        Assert.Equal("balanced", plain.Name);
        Assert.Equal(op.Thresholds, plain.Thresholds);
        Assert.Equal(op.ValidationAccuracy, plain.ValidationAccuracy);
        Assert.Equal(op.RelativeCost, plain.RelativeCost);
        Assert.Null(plain.TestAccuracy);

        OperatingPoint withTest = op.ToManifest(test);
        SimulationResult expected = EarlyExitSimulator.Simulate(test, op.Thresholds);
        Assert.Equal(expected.Accuracy, withTest.TestAccuracy);
        Assert.Equal(expected.RelativeCost, withTest.TestRelativeCost);
        Assert.Equal(expected.ExitShares, withTest.TestExitShares);
    }

    [Fact]
    public void TunerResult_AppliesToAManifest()
    {
        ExitOutputs o = TuningTestData.Realistic(1500, seed: 9);
        TuningResult r = ThresholdTuner.Run(o, new TuningOptions { Genetic = new GeneticSearchOptions { Generations = 10 } });
        ModelManifest m = OperatingPointsFile.From(r).ApplyTo(Manifest(4));
        Assert.Equal("balanced", m.DefaultOperatingPoint);
        Assert.Equal(3, m.OperatingPoints.Count);
        Assert.NotNull(m.FindOperatingPoint("fast"));
        Assert.All(m.OperatingPoints, p => Assert.Equal(4, p.Thresholds.Count));
        Assert.All(m.OperatingPoints, p => Assert.Equal(0f, p.Thresholds[^1]));
        // The manifest's JSON carries the thresholds (NeverExit is finite on purpose).
        Assert.Contains("\"operatingPoints\"", m.ToJson(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => OperatingPointsFile.From(r).ApplyTo(Manifest(3)));
    }

    [Fact]
    public void The_file_tune_writes_is_what_export_puts_into_the_manifest()
    {
        ExitOutputs validation = TuningTestData.Realistic(1500, seed: 9);
        ExitOutputs test = TuningTestData.Realistic(1000, seed: 10);
        TuningResult r = ThresholdTuner.Run(validation, new TuningOptions { Genetic = new GeneticSearchOptions { Generations = 10 } });
        string path = Path.Combine(Path.GetTempPath(), $"scan-points-{Guid.NewGuid():N}.json");
        try
        {
            OperatingPointsFile.From(r, test).Save(path);
            OperatingPointsFile read = OperatingPointsFile.Load(path);
            ModelManifest m = read.ApplyTo(Manifest(4));

            Assert.Equal(r.DefaultOperatingPoint, m.DefaultOperatingPoint);
            Assert.Equal(r.OperatingPoints.Select(p => p.Name), m.OperatingPoints.Select(p => p.Name));
            for (int i = 0; i < r.OperatingPoints.Count; i++)
            {
                NamedOperatingPoint chosen = r.OperatingPoints[i];
                OperatingPoint written = m.OperatingPoints[i];
                Assert.Equal(chosen.Thresholds, written.Thresholds);
                Assert.Equal(chosen.ValidationAccuracy, written.ValidationAccuracy);
                Assert.Equal(EarlyExitSimulator.Simulate(test, chosen.Thresholds).Accuracy, written.TestAccuracy);
            }
            // The field names of the files earlier runs wrote, which export must go on reading.
            string json = File.ReadAllText(path);
            Assert.Contains("\"operatingPoints\"", json, StringComparison.Ordinal);
            Assert.Contains("\"defaultOperatingPoint\": \"balanced\"", json, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_manifest_carries_the_whole_front_judged_on_every_validation_sample_cheapest_first_and_named()
    {
        ExitOutputs validation = TuningTestData.Realistic(1500, seed: 9);
        TuningResult r = ThresholdTuner.Run(validation, new TuningOptions { Genetic = new GeneticSearchOptions { Generations = 10 } });
        ModelManifest m = OperatingPointsFile.From(r).ApplyTo(Manifest(4));

        // Every candidate the named points were chosen from, re-judged on all 1,500 samples, and only what is still a front.
        Assert.True(m.ParetoFront.Count >= 3, $"front of {m.ParetoFront.Count}");
        Assert.Equal(r.ValidationFront.Count, m.ParetoFront.Count);
        for (int i = 0; i < m.ParetoFront.Count; i++)
        {
            OperatingPoint p = m.ParetoFront[i];
            Assert.Equal(ModelManifest.FrontPointName(i), p.Name);
            SimulationResult replay = EarlyExitSimulator.Simulate(validation, p.Thresholds.ToArray());
            Assert.Equal(replay.Accuracy, p.ValidationAccuracy, 12);
            Assert.Equal(replay.RelativeCost, p.RelativeCost, 12);
            if (i > 0)
            {
                Assert.True(p.RelativeCost > m.ParetoFront[i - 1].RelativeCost);
                Assert.True(p.ValidationAccuracy > m.ParetoFront[i - 1].ValidationAccuracy);
            }
        }
        // A request may name them.
        Assert.Same(m.ParetoFront[0], m.FindOperatingPoint("FRONT-01"));
    }

    private static ModelManifest Manifest(int exits)
    {
        static GraphSpec G(string f) => new() { File = f, Input = new("x", [-1, 1]), Output = new("y", [-1, 1]), MultiplyAdds = 1 };
        return new ModelManifest
        {
            SchemaVersion = ModelManifest.CurrentSchemaVersion,
            Model = new ModelIdentity("m", "1"),
            Input = new InputSpec { Channels = 1, Height = 28, Width = 28, ColorMode = ColorMode.Grayscale, Mean = [0.5f], Std = [0.5f] },
            Labels = ["a", "b"],
            Opset = 17,
            Stages = [.. Enumerable.Range(1, exits).Select(i => new StageSpec { Index = i, Graph = G($"stage{i}.onnx") })],
            Exits = [.. Enumerable.Range(1, exits).Select(i => new ExitSpec { Index = i, Classifier = G($"exit{i}.onnx"), CumulativeMultiplyAdds = i })],
            Monolithic = G("full.onnx"),
            Files = new Dictionary<string, string>(),
        };
    }
}
