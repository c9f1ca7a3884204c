using System.Globalization;

namespace ScanService.Benchmarks;

/// <summary>
/// The issue's targets, checked against what was measured; reported, never asserted (the figures depend on the
/// machine, what else runs on it, and on how well the model's exits are trained).
/// </summary>
public static class TargetChecks
{
    public static IReadOnlyList<TargetCheck> Evaluate(IReadOnlyList<ScenarioResult> results, string targetMode)
    {
        var checks = new List<TargetCheck>();
        ScenarioResult? Row(string groupKey, string mode) => results.FirstOrDefault(r => Key(r) == groupKey && r.Mode == mode);

        // Issue 14's targets.
        var concurrent = results.Where(r => r.Transport == BenchmarkSettings.InProcess && r.BatchSize == 1 && r.Clients >= 16 && r.Mode == targetMode && IsBatcher(r)).ToList();
        checks.Add(Ratio($"`{targetMode}` in-process throughput ≥ 2.0× monolithic at 16 and 64 clients (both dynamically batched)", concurrent, 2.0));

        var single = Row("engine-b1", targetMode);
        var singleMet = single is null ? (bool?)null : single.ThroughputRatio >= 2.2 && Math.Abs(single.AccuracyDelta ?? 0) <= 0.5;
        checks.Add(new TargetCheck($"`{targetMode}` in-process throughput ≥ 2.2× monolithic at batch 1, test accuracy within 0.5 points of full depth",
            single is null ? "not measured" : F($"{single.ThroughputRatio:F2}×, accuracy {single.AccuracyDelta:+0.00;-0.00} points"), singleMet));

        var efficiency = results.Where(r => r.Mode == targetMode && r.Transport == BenchmarkSettings.InProcess && r.ThroughputRatio is not null
            && (Key(r) == "engine-b1" || (IsBatcher(r) && r.Clients == 16))).ToList();
        checks.Add(new TargetCheck($"`{targetMode}` wall-clock speedup ≥ 75% of its multiply-add reduction (in process, batch 1 and 16 clients)",
            efficiency.Count == 0 ? "not measured" : string.Join("; ", efficiency.Select(r => F($"{Where(r)}: {r.ThroughputRatio:F2}× of {1 / r.CostRatio:F2}× = {r.ThroughputRatio * r.CostRatio:P0}"))),
            efficiency.Count == 0 ? null : efficiency.All(r => r.ThroughputRatio * r.CostRatio >= 0.75)));

        foreach (var transport in new[] { BenchmarkSettings.Http, BenchmarkSettings.Grpc })
        {
            var rows = results.Where(r => r.Transport == transport && r.Mode == targetMode && r.Clients == 16).ToList();
            checks.Add(Ratio($"over {(transport == BenchmarkSettings.Http ? "HTTP" : "gRPC unary")}, `{targetMode}` throughput ≥ 1.6× the same service at full depth, 16 clients", rows, 1.6));
        }

        foreach (var group in new[] { "engine-b1", $"engine-b{LargeBatch(results)}" })
        {
            var chained = Row(group, "full-depth");
            var overhead = chained is null ? (double?)null : 1 / chained.ThroughputRatio - 1;
            checks.Add(new TargetCheck(F($"chained full depth (b) within 5% of the monolithic graph (a) at batch {BatchOf(group)}"),
                overhead is null ? "not measured" : F($"{overhead:+0.0%;-0.0%} time per image (p50 per request {chained!.P50Ratio - 1:+0.0%;-0.0%})"), overhead is null ? null : overhead < 0.05));
        }
        return checks;
    }

    private static TargetCheck Ratio(string target, IReadOnlyList<ScenarioResult> rows, double limit) => new(target,
        rows.Count == 0 ? "not measured" : string.Join("; ", rows.Select(r => F($"{Where(r)}: {r.ThroughputRatio:F2}×"))),
        rows.Count == 0 ? null : rows.All(r => r.ThroughputRatio >= limit));

    private static bool IsBatcher(ScenarioResult r) => r.Group.Contains("batcher", StringComparison.Ordinal);

    private static string Key(ScenarioResult r) => r.Transport == BenchmarkSettings.InProcess
        ? IsBatcher(r) ? $"batcher-c{r.Clients}" : $"engine-b{r.BatchSize}"
        : $"{r.Transport}-c{r.Clients}";

    private static int LargeBatch(IReadOnlyList<ScenarioResult> results) =>
        results.Where(r => r.Transport == BenchmarkSettings.InProcess && !IsBatcher(r)).Select(r => r.BatchSize).DefaultIfEmpty(32).Max();

    private static string BatchOf(string group) => group["engine-b".Length..];

    private static string Where(ScenarioResult r) => IsBatcher(r) || r.Transport != BenchmarkSettings.InProcess
        ? $"{r.Clients} client{(r.Clients == 1 ? "" : "s")}"
        : $"batch {r.BatchSize}";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
