using ScanService.Core.Bundle;
using ScanService.Core.Inference;

namespace ScanService.Core.Evaluation;

/// <summary>One way of serving a labelled split: its accuracy, mean relative cost and where samples left.</summary>
public sealed record ModeEvaluation(string Mode, double Accuracy, double RelativeCost, IReadOnlyList<double> ExitShares);

public sealed record BundleEvaluationReport(string Model, string Version, int Samples, IReadOnlyList<ModeEvaluation> Rows)
{
    public ModeEvaluation? Find(string mode) => Rows.FirstOrDefault(r => r.Mode == mode);
}

/// <summary>
/// Serves a labelled split through the engine in every mode (each operating point, each exit alone, full
/// depth, the ensemble). Shared by the trainer's `evaluate --bundle`, the benchmark and the tests that check
/// the committed bundle, so that all of them measure the service's own code.
/// </summary>
public static class BundleEvaluator
{
    public const int BatchSize = 256;

    public static BundleEvaluationReport Evaluate(EarlyExitEngine engine, float[] pixels, IReadOnlyList<int> labels, Action<double, string>? progress = null)
    {
        var m = engine.Manifest;
        var modes = new List<(string Name, InferenceOptions Options)>();
        foreach (var point in m.OperatingPoints) modes.Add((point.Name, new InferenceOptions { OperatingPoint = point.Name }));
        for (var k = 1; k <= engine.ExitCount; k++) modes.Add(($"exit-{k}", new InferenceOptions { FullDepth = true, MaxExit = k }));
        modes.Add(("ensemble", new InferenceOptions { Ensemble = true }));

        var rows = new List<ModeEvaluation>();
        for (var i = 0; i < modes.Count; i++)
        {
            var (name, options) = modes[i];
            var plan = engine.Resolve(options);
            var predictions = RunAll(engine, pixels, labels.Count, plan);
            rows.Add(Summarise(name, predictions, labels, m, plan));
            progress?.Invoke((i + 1.0) / modes.Count, name);
        }
        return new BundleEvaluationReport(m.Model.Name, m.Model.Version, labels.Count, rows);
    }

    public static Prediction[] RunAll(EarlyExitEngine engine, float[] pixels, int count, ExitPlan plan)
    {
        var results = new Prediction[count];
        var size = engine.SampleSize;
        var buffer = new float[BatchSize * size];
        for (var start = 0; start < count; start += BatchSize)
        {
            var n = Math.Min(BatchSize, count - start);
            Array.Copy(pixels, (long)start * size, buffer, 0, (long)n * size);
            engine.Run(buffer, n, plan).CopyTo(results, start);
        }
        return results;
    }

    /// <summary>
    /// Cost per sample that answered at <paramref name="exit"/> (1-based): the stages to it and every head that ran on
    /// the way (<see cref="ExitRule.NeedsHead"/>: under early exit the heads of exits not switched off, at full depth
    /// only the answering exit's, under the ensemble all of them).
    /// </summary>
    public static double SampleCost(ModelManifest m, ExitPlan plan, int exit)
    {
        double cost = 0;
        for (var k = 0; k < exit; k++)
        {
            cost += m.Stages[k].Graph.MultiplyAdds;
            var spec = m.Exits[k];
            if (k == exit - 1 || ExitRule.NeedsHead(plan, k)) cost += (spec.Attention?.MultiplyAdds ?? 0) + spec.Classifier.MultiplyAdds;
        }
        return cost;
    }

    public static ModeEvaluation Summarise(string name, Prediction[] predictions, IReadOnlyList<int> labels, ModelManifest m, ExitPlan plan)
    {
        var correct = 0;
        double cost = 0;
        var exits = new int[m.Exits.Count];
        for (var i = 0; i < predictions.Length; i++)
        {
            var p = predictions[i];
            if (p.ClassIndex == labels[i]) correct++;
            exits[p.Exit - 1]++;
            cost += SampleCost(m, plan, p.Exit);
        }
        var n = predictions.Length;
        return new ModeEvaluation(name, (double)correct / n, cost / n / m.FullDepthMultiplyAdds, exits.Select(e => (double)e / n).ToList());
    }

    /// <summary>The manifest with test figures recorded beside each operating point and exit.</summary>
    public static ModelManifest Record(ModelManifest m, BundleEvaluationReport report)
    {
        var points = m.OperatingPoints.Select(p => report.Find(p.Name) is { } row
            ? p with { TestAccuracy = row.Accuracy, TestRelativeCost = row.RelativeCost, TestExitShares = row.ExitShares }
            : p).ToList();
        var perExit = Enumerable.Range(1, m.Exits.Count).Select(k => report.Find($"exit-{k}")?.Accuracy ?? double.NaN).ToList();
        var training = (m.Training ?? new TrainingRecord()) with
        {
            TestAccuracyPerExit = perExit,
            EnsembleTestAccuracy = report.Find("ensemble")?.Accuracy,
        };
        return m with { OperatingPoints = points, Training = training };
    }
}
