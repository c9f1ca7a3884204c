using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace ScanService.Benchmarks;

/// <summary>The report three ways: tables on the console, markdown for people, JSON for tools.</summary>
public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly string[] Columns = ["mode", "images", "img/s", "× base", "p50 ms", "p95 ms", "p99 ms", "p50 × base", "p99 × base", "accuracy", "Δ acc (pts)", "rel. MACs", "agree"];

    public static (string Markdown, string Json) Write(BenchmarkReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var markdown = Path.Combine(folder, "benchmark.md");
        var json = Path.Combine(folder, "benchmark.json");
        File.WriteAllText(markdown, Markdown(report));
        File.WriteAllText(json, JsonSerializer.Serialize(report, Json));
        return (markdown, json);
    }

    public static void PrintTables(BenchmarkReport report)
    {
        // Redirected output has no terminal width; Spectre's default of 80 columns would wrap every cell.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
        foreach (var group in report.Scenarios.GroupBy(r => r.Group))
        {
            var table = new Table().Title(Markup.Escape($"{group.Key} (× base: against {group.First().Baseline})")).AddColumns(Columns);
            foreach (var row in group) table.AddRow(Cells(row).Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
        }
        var targets = new Table().Title("targets (reported, not asserted)").AddColumns("target", "measured", "met");
        foreach (var t in report.Targets) targets.AddRow(Markup.Escape(t.Target), Markup.Escape(t.Measured), Met(t.Met));
        AnsiConsole.Write(targets);
    }

    private static string Markdown(BenchmarkReport r)
    {
        var m = r.Machine;
        var s = r.Settings;
        var md = new StringBuilder();
        md.AppendLine(F($"# ScanService benchmark: {r.Model} {r.ModelVersion}"));
        md.AppendLine();
        md.AppendLine(F($"Run {r.Started:yyyy-MM-dd HH:mm zzz}, {r.WallSeconds / 60:F1} minutes: `{s.Command}`"));
        md.AppendLine();
        md.AppendLine(F($"- Machine: {m.Cpu}, {m.Cores} cores, {m.MemoryGiB} GiB; {m.Os}; {m.Runtime}; ONNX Runtime {m.OnnxRuntime} ({s.Provider} provider requested, feature memory {s.FeatureMemory}{(s.FixedBatch is { } fixedBatch ? $", fixed batch {fixedBatch}" : "")}{(s.IntraOpSpinning ? ", pool threads spinning" : "")}, {(s.InlineMaxMultiplyAdds > 0 ? $"runs of up to {s.InlineMaxMultiplyAdds / 1e6:F1} M multiply-adds on the calling thread" : "every run on the shared pool")})."));
        md.AppendLine(F($"- Load average at start {m.LoadAverageAtStart}, at end {m.LoadAverageAtEnd}."));
        md.AppendLine(m.BackgroundTraining.Count == 0
            ? "- No training run (scan-train) was running."
            : F($"- Running beside the benchmark: {string.Join("; ", m.BackgroundTraining.Select(t => $"`{t}`"))}."));
        md.AppendLine(F($"- Test images: the first {s.Limit} of Fashion-MNIST's 10,000, served in order, in {s.Rounds} round(s): each round every mode of a group in turn serves the next share of the images{(s.SecondsPerRow > 0 ? $", for at most {s.SecondsPerRow / s.Rounds:0.##} s (so a slow row serves fewer images; see its count)" : "")}."));
        md.AppendLine(F($"- Dynamic batching: batches of up to {s.MaxBatchSize}, at most {s.MaxDelayMilliseconds} ms of waiting (survivors past exit 1: {s.DeepStageDelayMilliseconds} ms while stage 1 is saturated), {s.QueueCapacity} samples queued at most; the monolithic baseline under concurrency uses the same policy."));
        md.AppendLine();
        md.AppendLine("## Targets (reported, not asserted)");
        md.AppendLine();
        md.AppendLine("| target | measured | met |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var t in r.Targets) md.AppendLine($"| {t.Target} | {t.Measured} | {(t.Met is null ? "n/a" : t.Met.Value ? "yes" : "**no**")} |");
        md.AppendLine();
        md.AppendLine("## Modes on the test images (engine, batch 256)");
        md.AppendLine();
        md.AppendLine("| mode | accuracy | relative multiply-adds | share of images leaving at each exit |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (var mode in r.Modes)
            md.AppendLine(F($"| {mode.Label} | {mode.Accuracy:P2} | {mode.RelativeCost:F3} | {string.Join(" / ", mode.ExitShares.Select(x => x.ToString("P1", CultureInfo.InvariantCulture)))} |"));
        md.AppendLine();
        if (r.Graphs.Count > 0)
        {
            md.AppendLine("## Where the time goes (engine, medians)");
            md.AppendLine();
            md.AppendLine("Wall time of each graph of the chain (stage k; head k = attention k and classifier k), from the engine's own observer with every head running, "
                + "beside the monolithic graph's. From these and each mode's exit distribution, the speedup over the monolithic graph that the graphs' times allow, "
                + "beside the reduction its multiply-adds promise:");
            md.AppendLine();
            var exits = r.Graphs[0].StageMs.Count;
            md.AppendLine($"| batch | monolithic ms | {string.Join(" | ", Enumerable.Range(1, exits).Select(k => $"stage {k} ms"))} | {string.Join(" | ", Enumerable.Range(1, exits).Select(k => $"head {k} ms"))} |");
            md.AppendLine($"|{string.Concat(Enumerable.Repeat(" --- |", 2 + 2 * exits))}");
            foreach (var g in r.Graphs)
                md.AppendLine(F($"| {g.BatchSize} | {g.MonolithicMs:F3} | {string.Join(" | ", g.StageMs.Select(t => t.ToString("F3", CultureInfo.InvariantCulture)))} | {string.Join(" | ", g.HeadMs.Select(t => t.ToString("F3", CultureInfo.InvariantCulture)))} |"));
            md.AppendLine();
            md.AppendLine($"| mode | multiply-add reduction | {string.Join(" | ", r.Graphs.Select(g => $"speedup the graph times allow, batch {g.BatchSize}"))} |");
            md.AppendLine($"|{string.Concat(Enumerable.Repeat(" --- |", 2 + r.Graphs.Count))}");
            foreach (var mode in r.Graphs[0].Predictions)
                md.AppendLine(F($"| {mode.Label} | {mode.MultiplyAddReduction:F2}× | {string.Join(" | ", r.Graphs.Select(g => g.Predictions.First(p => p.Mode == mode.Mode).WallClockSpeedup.ToString("F2", CultureInfo.InvariantCulture) + "×"))} |"));
            md.AppendLine();
        }
        md.AppendLine("## Results");
        md.AppendLine();
        md.AppendLine("Throughput in images per second; latency per request (one image, or one batch in the batch-32 rows), closed-loop clients. "
            + "`× base` is the row's figure over its group's baseline: (a) the monolithic graph in process, (b) the same service at full depth over HTTP and gRPC "
            + "(the service does not serve the monolithic graph). `agree`: share of answers equal to the engine's own (class and exit).");
        foreach (var group in r.Scenarios.GroupBy(x => x.Group))
        {
            md.AppendLine();
            md.AppendLine(F($"### {group.Key} (base: {group.First().Baseline})"));
            md.AppendLine();
            md.AppendLine($"| {string.Join(" | ", Columns)} |");
            md.AppendLine($"|{string.Concat(Enumerable.Repeat(" --- |", Columns.Length))}");
            foreach (var row in group) md.AppendLine($"| {string.Join(" | ", Cells(row))} |");
            foreach (var row in group.Where(x => x.Errors > 0)) md.AppendLine(F($"\n{row.Label}: {row.Errors} failed requests, first: {row.FirstError}"));
        }
        return md.ToString();
    }

    private static IEnumerable<string> Cells(ScenarioResult r) =>
    [
        r.Label,
        F($"{r.Images}"),
        F($"{r.Throughput:F0}"),
        F($"{r.ThroughputRatio:F2}"),
        F($"{r.P50Ms:F2}"),
        F($"{r.P95Ms:F2}"),
        F($"{r.P99Ms:F2}"),
        F($"{r.P50Ratio:F2}"),
        F($"{r.P99Ratio:F2}"),
        F($"{r.Accuracy:P2}"),
        F($"{r.AccuracyDelta:+0.00;-0.00;0.00}"),
        F($"{r.RelativeCost:F3}"),
        F($"{r.Agreement:P1}"),
    ];

    private static string Met(bool? met) => met is null ? "n/a" : met.Value ? "[green]yes[/]" : "[red]no[/]";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
