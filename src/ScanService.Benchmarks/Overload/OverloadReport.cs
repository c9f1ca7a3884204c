using System.Text.Json;

namespace ScanService.Benchmarks.Overload;

/// <summary>What the service answers when it sets the pace itself: the closed-loop rate every run's offered load is a multiple of.</summary>
public sealed record CapacityResult(
    string OperatingPoint, int Clients, double Seconds, int Requests, int Answered, int Refused, int Errors, string? FirstError,
    double AnswersPerSecond, double P50Ms, double P99Ms, double Accuracy);

/// <summary>One second of a run, by the time its requests were due: what was offered, how it was answered, and at what point.</summary>
/// <param name="P99Ms">p99 latency of the answers to the second's requests; NaN when none was answered.</param>
/// <param name="MeanRelativeCost">Mean relative cost of the points that answered them (the effective point); NaN when none was answered.</param>
public sealed record TimelinePoint(int Second, int Offered, int Answered, int Refused, int Errors, double P99Ms, double MeanRelativeCost, double DegradedShare);

/// <summary>One open-loop run: a load multiplier, a mode, a fresh service.</summary>
public sealed record OverloadRun
{
    public required double Multiplier { get; init; }
    public required string Mode { get; init; }
    public required bool Adaptive { get; init; }
    /// <summary>Arrivals per second asked for: multiplier × capacity.</summary>
    public required double OfferedRate { get; init; }
    /// <summary>Requests actually sent per second (the Poisson draw's own count).</summary>
    public required double SentRate { get; init; }
    public required double Seconds { get; init; }
    public required int Requests { get; init; }
    public required int Answered { get; init; }
    public required int Refused { get; init; }
    public required double RefusedShare { get; init; }
    public required int Errors { get; init; }
    public string? FirstError { get; init; }
    /// <summary>Answers (200) that arrived within the run's seconds, per second: what the service delivered.</summary>
    public required double Throughput { get; init; }
    /// <summary>Latency of the answered requests (send to answer), in milliseconds.</summary>
    public required double P50Ms { get; init; }
    public required double P99Ms { get; init; }
    /// <summary>Share of the answered requests whose class was the test label.</summary>
    public required double Accuracy { get; init; }
    /// <summary>Share of the answers the service marked as degraded.</summary>
    public required double DegradedShare { get; init; }
    /// <summary>Mean relative cost of the points that answered (answers at a point the manifest does not list are left out).</summary>
    public required double MeanRelativeCost { get; init; }
    /// <summary>Share of the answers given at each operating point.</summary>
    public required IReadOnlyDictionary<string, double> PointShares { get; init; }
    public required bool MeetsObjective { get; init; }
    /// <summary>p99 of how late the client sent requests after their due time: large values mean the client fell behind its schedule.</summary>
    public required double LagP99Ms { get; init; }
    /// <summary>Share of the requests sent more than <see cref="OverloadSettings.LateMilliseconds"/> late.</summary>
    public required double LateShare { get; init; }
    public required int MaxInFlight { get; init; }
    public required IReadOnlyList<TimelinePoint> Timeline { get; init; }
}

/// <summary>The service's batching as its own appsettings.json sets it (the overload runs do not change it): the queue bounds what can wait before refusals start.</summary>
public sealed record ServiceBatching(int? MaxBatchSize, double? MaxDelayMilliseconds, int? QueueCapacity)
{
    public static ServiceBatching? Read(string serviceDll)
    {
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(serviceDll))!, "appsettings.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!json.RootElement.TryGetProperty("Batching", out var b)) return null;
            return new ServiceBatching(
                b.TryGetProperty(nameof(MaxBatchSize), out var size) && size.TryGetInt32(out var s) ? s : null,
                b.TryGetProperty(nameof(MaxDelayMilliseconds), out var delay) && delay.TryGetDouble(out var d) ? d : null,
                b.TryGetProperty(nameof(QueueCapacity), out var capacity) && capacity.TryGetInt32(out var c) ? c : null);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

public sealed record OverloadReport(
    OverloadSettings Settings, MachineInfo Machine, string Model, string ModelVersion, ServiceBatching? Batching, DateTimeOffset Started, double WallSeconds,
    IReadOnlyDictionary<string, double> PointCosts, CapacityResult Capacity, IReadOnlyList<OverloadRun> Runs);

/// <summary>From every request's record to a run's figures and its timeline.</summary>
public static class OverloadSummary
{
    public static CapacityResult Capacity(string point, int clients, double seconds, IReadOnlyList<RequestRecord> records, string? firstError)
    {
        var answered = records.Where(r => r.Answered).ToList();
        var latencies = answered.Select(r => r.LatencyMs).Order().ToArray();
        return new CapacityResult(point, clients, seconds, records.Count, answered.Count, records.Count(r => r.Refused), records.Count(r => r.Failed), firstError,
            answered.Count(r => r.CompletedMs <= seconds * 1000) / seconds,
            Percentiles.NearestRank(latencies, 0.50), Percentiles.NearestRank(latencies, 0.99),
            answered.Count == 0 ? double.NaN : (double)answered.Count(r => r.Correct) / answered.Count);
    }

    public static OverloadRun Run(double multiplier, OverloadMode mode, double rate, double seconds, double objectiveMs, IReadOnlyList<RequestRecord> records,
        PointCosts costs, int maxInFlight, string? firstError)
    {
        var answered = records.Where(r => r.Answered).ToList();
        var latencies = answered.Select(r => r.LatencyMs).Order().ToArray();
        var lags = records.Select(r => r.LagMs).Order().ToArray();
        var refused = records.Count(r => r.Refused);
        var p99 = Percentiles.NearestRank(latencies, 0.99);
        var buckets = (int)Math.Ceiling(seconds);
        var bySecond = records.ToLookup(r => (int)(r.ScheduledMs / 1000));
        var timeline = Enumerable.Range(0, buckets).Select(second =>
        {
            var due = bySecond[second].ToList();
            var ok = due.Where(r => r.Answered).ToList();
            return new TimelinePoint(second, due.Count, ok.Count, due.Count(r => r.Refused), due.Count(r => r.Failed),
                Percentiles.NearestRank(ok.Select(r => r.LatencyMs).Order().ToArray(), 0.99), MeanCost(ok, costs), Share(ok, r => r.Degraded));
        }).ToList();
        return new OverloadRun
        {
            Multiplier = multiplier,
            Mode = mode.Name,
            Adaptive = mode.Adaptive,
            OfferedRate = rate,
            SentRate = records.Count / seconds,
            Seconds = seconds,
            Requests = records.Count,
            Answered = answered.Count,
            Refused = refused,
            RefusedShare = records.Count == 0 ? 0 : (double)refused / records.Count,
            Errors = records.Count(r => r.Failed),
            FirstError = firstError,
            Throughput = answered.Count(r => r.CompletedMs <= seconds * 1000) / seconds,
            P50Ms = Percentiles.NearestRank(latencies, 0.50),
            P99Ms = p99,
            Accuracy = Share(answered, r => r.Correct),
            DegradedShare = Share(answered, r => r.Degraded),
            MeanRelativeCost = MeanCost(answered, costs),
            PointShares = answered.GroupBy(r => r.OperatingPoint ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (double)g.Count() / answered.Count),
            MeetsObjective = p99 <= objectiveMs,
            LagP99Ms = Percentiles.NearestRank(lags, 0.99),
            LateShare = Share(records, r => r.LagMs > OverloadSettings.LateMilliseconds),
            MaxInFlight = maxInFlight,
            Timeline = timeline,
        };
    }

    private static double Share(IReadOnlyCollection<RequestRecord> records, Func<RequestRecord, bool> predicate) =>
        records.Count == 0 ? double.NaN : (double)records.Count(predicate) / records.Count;

    private static double MeanCost(IEnumerable<RequestRecord> answered, PointCosts costs)
    {
        var known = answered.Select(r => costs.Of(r.OperatingPoint)).Where(c => !double.IsNaN(c)).ToList();
        return known.Count == 0 ? double.NaN : known.Average();
    }
}
