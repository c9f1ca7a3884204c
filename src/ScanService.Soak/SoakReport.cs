using System.Globalization;
using System.Text;

namespace ScanService.Soak;

/// <summary>One route's figures over the soak.</summary>
/// <param name="Declined">Requests built to be refused (over-size stream items) that got their documented refusal.</param>
/// <param name="Cancelled">Items of calls the client cancelled on purpose.</param>
public sealed record RouteFigures(string Route, long Requests, long Answered, long Refused, long Errors, long Wrong, double P50Ms, double P99Ms, long Declined = 0, long Cancelled = 0);

/// <summary>What a soak measured, and whether the service passed: every request answered right or refused as documented.</summary>
public sealed record SoakReport
{
    public required int Clients { get; init; }
    public required int Images { get; init; }
    public required IReadOnlyList<string> Profiles { get; init; }
    public required int Cases { get; init; }
    public required double ReferenceSeconds { get; init; }
    public required double Seconds { get; init; }
    public required IReadOnlyList<RouteFigures> Routes { get; init; }
    public required RouteFigures Total { get; init; }
    /// <summary>Resident memory samples of the service, one a second; empty when its process was not known.</summary>
    public required IReadOnlyList<WorkingSetSample> WorkingSet { get; init; }
    /// <summary>Just before the load started (after the reference pass had warmed the service up).</summary>
    public long? WorkingSetBefore { get; init; }
    /// <summary>Right after the load ended.</summary>
    public long? WorkingSetFinal { get; init; }
    public long? WorkingSetPeak => WorkingSet.Count == 0 ? null : WorkingSet.Max(s => s.Bytes);
    /// <summary>Whether /v2/health/ready still answered 200 after the load, and the references still held.</summary>
    public required bool HealthyAfter { get; init; }
    /// <summary>The started service's exit code after SIGTERM; null when the soak did not start it or it had to be killed.</summary>
    public int? ExitCode { get; init; }
    public bool StartedService { get; init; }
    public required IReadOnlyList<string> Problems { get; init; }

    public double Throughput => Total.Requests / Seconds;

    public bool Passed =>
        Total.Requests > 0 && Total.Wrong == 0 && Total.Errors == 0 && HealthyAfter && (!StartedService || ExitCode == 0);

    public string Format()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"Soak: {Clients} clients for {Seconds:F1} s; {Images} images x {Profiles.Count} option profiles = {Cases} cases, reference answers in {ReferenceSeconds:F1} s without load");
        text.AppendLine(c, $"  profiles: {string.Join(", ", Profiles)}");
        text.AppendLine();
        text.AppendLine(c, $"  {"route",-22} {"requests",9} {"answered",9} {"refused",8} {"declined",8} {"cancelled",9} {"errors",7} {"wrong",6} {"p50 ms",8} {"p99 ms",8}");
        foreach (var r in Routes.Append(Total))
            text.AppendLine(c, $"  {r.Route,-22} {r.Requests,9} {r.Answered,9} {r.Refused,8} {r.Declined,8} {r.Cancelled,9} {r.Errors,7} {r.Wrong,6} {r.P50Ms,8:F1} {r.P99Ms,8:F1}");
        text.AppendLine("  refused: 429 / RESOURCE_EXHAUSTED of a full queue; declined: over-size items refused as documented; cancelled: items of calls the client cancelled");
        text.AppendLine();
        text.AppendLine(c, $"  throughput: {Throughput:F0} requests/s");
        if (WorkingSet.Count > 0)
        {
            text.AppendLine(c, $"  working set (VmRSS): before load {Mib(WorkingSetBefore)}, peak {Mib(WorkingSetPeak)}, final {Mib(WorkingSetFinal)}");
            text.AppendLine(c, $"    every 10 s: {string.Join(" ", WorkingSet.Where((_, i) => i % 10 == 0).Select(s => Mib(s.Bytes)))}");
        }
        else
        {
            text.AppendLine("  working set: not sampled (give --pid for a service the soak did not start)");
        }
        text.AppendLine(c, $"  healthy after the load: {(HealthyAfter ? "yes" : "NO")}");
        if (StartedService) text.AppendLine(c, $"  exit code after SIGTERM: {(ExitCode is { } code ? code.ToString(c) : "none (killed)")}");
        foreach (var problem in Problems) text.AppendLine(c, $"  ! {problem}");
        text.AppendLine(Passed ? "PASSED: every request was answered with its reference answer or refused as documented" : "FAILED");
        return text.ToString();
    }

    private static string Mib(long? bytes) => bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0:F0} MiB") : "n/a";

    public static RouteFigures Figures(string route, RouteTally tally)
    {
        var sorted = tally.LatenciesMs.Order().ToArray();
        return new RouteFigures(route, tally.Requests, tally.Answered, tally.Refused, tally.Errors, tally.Wrong, Percentile(sorted, 0.50), Percentile(sorted, 0.99), tally.Declined, tally.Cancelled);
    }

    /// <summary>Nearest-rank percentile of sorted values; 0 when there are none.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
