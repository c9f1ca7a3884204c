using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace ScanService.Benchmarks.Overload;

/// <summary>The overload report four ways: a table on the console, markdown for people, JSON and a per-second CSV for tools, and the figure.</summary>
public static class OverloadWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string[] Columns(OverloadReport r) =>
    [
        "load", "mode", "offered/s", "sent/s", "answers/s", "p50 ms", "p99 ms", "refused", "refused %", "errors", "accuracy", "degraded",
        "mean rel. cost", F($"p99 ≤ {r.Settings.ObjectiveMilliseconds:0.#} ms"), "client lag p99 ms", "max in flight",
    ];

    public static IReadOnlyList<string> Write(OverloadReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var markdown = Path.Combine(folder, "overload.md");
        var json = Path.Combine(folder, "overload.json");
        var csv = Path.Combine(folder, "overload-timeline.csv");
        var svg = Path.Combine(folder, "overload.svg");
        File.WriteAllText(markdown, Markdown(report));
        File.WriteAllText(json, JsonSerializer.Serialize(report, Json));
        File.WriteAllText(csv, Timeline(report));
        File.WriteAllText(svg, OverloadPlot.Svg(report));
        return [markdown, json, csv, svg];
    }

    public static void PrintTable(OverloadReport report)
    {
        // Redirected output has no terminal width; Spectre's default of 80 columns would wrap every cell.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 220);
        var table = new Table().Title(Markup.Escape(F($"overload: {report.Model} {report.ModelVersion}, capacity of {report.Capacity.OperatingPoint} {report.Capacity.AnswersPerSecond:F0} answers/s (client and service on the same {report.Machine.Cores} cores)")))
            .AddColumns(Columns(report));
        foreach (var run in report.Runs) table.AddRow(Cells(run).Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }

    private static string Markdown(OverloadReport r)
    {
        var m = r.Machine;
        var s = r.Settings;
        var c = r.Capacity;
        var b = r.Batching;
        var md = new StringBuilder();
        md.AppendLine(F($"# ScanService overload: {r.Model} {r.ModelVersion}"));
        md.AppendLine();
        md.AppendLine(F($"Run {r.Started:yyyy-MM-dd HH:mm zzz}, {r.WallSeconds / 60:F1} minutes: `{s.Command}`"));
        md.AppendLine();
        md.AppendLine(F($"- Machine: {m.Cpu}, {m.Cores} cores, {m.MemoryGiB} GiB; {m.Os}; {m.Runtime}; ONNX Runtime {m.OnnxRuntime} (the service on its CPU provider)."));
        md.AppendLine(F($"- **Client and service share this machine.** The load generator (Poisson schedule, HTTP, JSON parsing of every answer) runs on the same {m.Cores} cores as the service and takes CPU from it, the more so the higher the load: the capacity and every figure below are what this machine serves with this client beside it, not what the service would serve alone. `client lag p99` shows when the client itself fell behind its schedule."));
        md.AppendLine(F($"- Load average at start {m.LoadAverageAtStart}, at end {m.LoadAverageAtEnd}."));
        md.AppendLine(m.BackgroundTraining.Count == 0
            ? "- No training run (scan-train) was running."
            : F($"- Running beside the benchmark: {string.Join("; ", m.BackgroundTraining.Select(t => $"`{t}`"))}."));
        md.AppendLine(F($"- Service: `{s.ServiceDll}` as a child process on loopback, REST `POST /v1/classify` with one PNG per request; batching as its appsettings.json sets it")
            + (b is null ? "." : F($" (batches of up to {b.MaxBatchSize?.ToString(CultureInfo.InvariantCulture) ?? "?"}, {b.MaxDelayMilliseconds?.ToString(CultureInfo.InvariantCulture) ?? "?"} ms of waiting, {b.QueueCapacity?.ToString(CultureInfo.InvariantCulture) ?? "?"} samples queued at most: past that it refuses with 429)."))
            + " A fresh process for every run, so that no queue or controller state carries over.");
        md.AppendLine(F($"- Test images: the first {s.Limit} of Fashion-MNIST's 10,000, sent in order and round again; accuracy is of the answered requests against their labels."));
        md.AppendLine(F($"- Capacity: `{c.OperatingPoint}` pinned on every request, {c.Clients} closed-loop clients for {c.Seconds:0.#} s after {s.WarmUpSeconds:0.#} s of warm-up: **{c.AnswersPerSecond:F0} answers/s** (p50 {c.P50Ms:F1} ms, p99 {c.P99Ms:F1} ms, accuracy {c.Accuracy:P2}{(c.Refused + c.Errors > 0 ? $", {c.Refused} refused, {c.Errors} errors" : "")})."));
        md.AppendLine(F($"- Runs: open-loop Poisson arrivals at load × capacity for {s.Seconds:0.#} s (seed {s.Seed}: every run gets the same arrivals, scaled to its rate), each request sent at its time whether or not earlier ones were answered, ")
            + F($"after {s.WarmUpSeconds:0.#} s of light closed-loop warm-up ({OverloadRunner.WarmUpClients} clients, the run's own mode: JIT, pools and connections, without loading the service, so an adaptive service starts the run undegraded); up to {s.MaxConnections} connections."));
        md.AppendLine(F($"- Modes: a fixed point (`fast`, `balanced`, `accurate`) is pinned with `?operatingPoint=` on a service with `Degradation:Enabled=false`; `adaptive` sends no point to a service with `Degradation:Enabled=true`, `ObjectiveMilliseconds={s.ObjectiveMilliseconds:0.#}`, `Signal=Latency`; `adaptive-from-accurate` adds `BaseOperatingPoint=accurate`."));
        md.AppendLine(F($"- Relative cost of each point (multiply-adds over the monolithic graph's, from manifest.json): {string.Join(", ", r.PointCosts.Select(p => F($"`{p.Key}` {p.Value:F3}")))}."));
        md.AppendLine();
        md.AppendLine("## Results");
        md.AppendLine();
        md.AppendLine("`offered/s`: the rate asked for; `sent/s`: the Poisson draw's own count per second. `answers/s`: 200 answers that arrived within the run's seconds, per second. "
            + "Latency is send to answer of the answered requests. `refused`: 429 (queue full); `errors`: any other status, or no answer. `degraded`: share of the answers the service marked `degraded` "
            + "(absent from an answer counts as not degraded). `mean rel. cost`: of the points that answered, by each answer's `operatingPoint`.");
        md.AppendLine();
        var columns = Columns(r);
        md.AppendLine($"| {string.Join(" | ", columns)} |");
        md.AppendLine($"|{string.Concat(Enumerable.Repeat(" --- |", columns.Length))}");
        foreach (var run in r.Runs) md.AppendLine($"| {string.Join(" | ", Cells(run))} |");
        var mixed = r.Runs.Where(x => x.PointShares.Count > 1).ToList();
        if (mixed.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Answers by operating point, where a run's answers came from more than one:");
            md.AppendLine();
            foreach (var run in mixed)
                md.AppendLine(F($"- {run.Multiplier:0.##}× `{run.Mode}`: {string.Join(", ", run.PointShares.Select(p => F($"`{p.Key}` {p.Value:P1}")))}"));
        }
        foreach (var run in r.Runs.Where(x => x.MaxInFlight > s.MaxConnections))
            md.AppendLine(F($"\n{run.Multiplier:0.##}× `{run.Mode}`: {run.MaxInFlight} requests were outstanding at once, more than the client's {s.MaxConnections} connections: some waited in the client, not in the service (raise --max-connections)."));
        foreach (var run in r.Runs.Where(x => x.FirstError is not null))
            md.AppendLine(F($"\n{run.Multiplier:0.##}× `{run.Mode}`: {run.Errors} failed requests, first: {run.FirstError}"));
        md.AppendLine();
        md.AppendLine("## Over time");
        md.AppendLine();
        md.AppendLine("Per second of each run, by the time the requests were due: `overload-timeline.csv` (offered, answered, refused, errors, p99 of the answers, mean relative cost of the points that answered, share degraded). "
            + $"The figure shows p99 and the effective point per second for the {(r.Runs.Any(x => x.Adaptive) ? "adaptive modes" : "runs (no adaptive mode was run)")}:");
        md.AppendLine();
        md.AppendLine("![p99 latency and effective operating point per second](overload.svg)");
        return md.ToString();
    }

    private static string Timeline(OverloadReport r)
    {
        var csv = new StringBuilder("multiplier,mode,second,offered,answered,refused,errors,p99_ms,mean_relative_cost,share_degraded\n");
        foreach (var run in r.Runs)
        {
            foreach (var t in run.Timeline)
                csv.AppendLine(F($"{run.Multiplier},{run.Mode},{t.Second},{t.Offered},{t.Answered},{t.Refused},{t.Errors},{Number(t.P99Ms, "F2")},{Number(t.MeanRelativeCost, "F4")},{Number(t.DegradedShare, "F4")}"));
        }
        return csv.ToString();
    }

    private static IEnumerable<string> Cells(OverloadRun r) =>
    [
        F($"{r.Multiplier:0.##}×"),
        r.Mode,
        F($"{r.OfferedRate:F0}"),
        F($"{r.SentRate:F0}"),
        F($"{r.Throughput:F0}"),
        F($"{r.P50Ms:F1}"),
        F($"{r.P99Ms:F1}"),
        F($"{r.Refused}"),
        F($"{r.RefusedShare:P1}"),
        F($"{r.Errors}"),
        F($"{r.Accuracy:P2}"),
        F($"{r.DegradedShare:P1}"),
        F($"{r.MeanRelativeCost:F3}"),
        r.MeetsObjective ? "yes" : "no",
        F($"{r.LagP99Ms:F1}"),
        F($"{r.MaxInFlight}"),
    ];

    /// <summary>Empty for NaN (a second with no answers), so that spreadsheets and pandas read a missing value.</summary>
    private static string Number(double value, string format) => double.IsNaN(value) ? "" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
