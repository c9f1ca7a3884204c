namespace ScanService.Benchmarks;

/// <summary>A mode's answers on every test image used, through the engine at batch 256: its accuracy, cost and exits.</summary>
public sealed record ModeReference(string Mode, string Label, double Accuracy, double RelativeCost, IReadOnlyList<double> ExitShares)
{
    /// <summary>The thresholds of an early-exit mode (exits above 1 are switched off and run no head); empty otherwise.</summary>
    public IReadOnlyList<float> Thresholds { get; init; } = [];

    /// <summary>By test image index, to check that every front end gave the engine's own answers.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Answer[] Answers { get; init; } = [];
}

/// <summary>One row: a mode served through one transport at one batch size and concurrency.</summary>
public sealed record ScenarioResult
{
    public required string Group { get; init; }
    public required string Transport { get; init; }
    public required int BatchSize { get; init; }
    public required int Clients { get; init; }
    public required string Mode { get; init; }
    public required string Label { get; init; }
    public required string Baseline { get; init; }
    public required int Images { get; init; }
    public required int Requests { get; init; }
    public required int Errors { get; init; }
    public string? FirstError { get; init; }
    public required double Seconds { get; init; }
    /// <summary>Images per second.</summary>
    public required double Throughput { get; init; }
    /// <summary>Per request (a request is one image, or one batch in the batch-32 rows), in milliseconds.</summary>
    public required double P50Ms { get; init; }
    public required double P95Ms { get; init; }
    public required double P99Ms { get; init; }
    /// <summary>The mode's accuracy on the test images used (from the engine at batch 256; answers are the same).</summary>
    public required double Accuracy { get; init; }
    /// <summary>Mean multiply-adds per image relative to the monolithic graph.</summary>
    public required double RelativeCost { get; init; }
    /// <summary>Share of the answers served here equal (class and exit) to the engine's own.</summary>
    public required double Agreement { get; init; }
    public double? ThroughputRatio { get; init; }
    public double? P50Ratio { get; init; }
    public double? P95Ratio { get; init; }
    public double? P99Ratio { get; init; }
    /// <summary>Accuracy minus the baseline's, in percentage points.</summary>
    public double? AccuracyDelta { get; init; }
    public double? CostRatio { get; init; }
}

/// <summary>A target from the issue, what was measured against it, and whether it was met (null: not measured).</summary>
public sealed record TargetCheck(string Target, string Measured, bool? Met);

public sealed record BenchmarkReport(
    BenchmarkSettings Settings, MachineInfo Machine, string Model, string ModelVersion, DateTimeOffset Started, double WallSeconds,
    IReadOnlyList<ModeReference> Modes, IReadOnlyList<GraphTimings> Graphs, IReadOnlyList<ScenarioResult> Scenarios, IReadOnlyList<TargetCheck> Targets);
