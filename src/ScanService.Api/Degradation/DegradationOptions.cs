using System.ComponentModel.DataAnnotations;

namespace ScanService.Api.Degradation;

/// <summary>What the controller watches: the whole time a request spends in the service, or only its wait for a batch.</summary>
public enum DegradationSignal
{
    /// <summary>Decoding, queue wait and inference of each request (what a client waits for, less the network).</summary>
    Latency,
    /// <summary>How long each request waited before its first stage ran (dynamic batching only).</summary>
    QueueWait,
}

/// <summary>
/// Configuration section "Degradation": graceful degradation under overload. When the measured latency (or queue
/// wait) crosses the objective, requests that did not pin an operating point are served at cheaper points of the
/// bundle's front, one step at a time, and they return as load falls. Off unless enabled.
/// </summary>
public sealed class DegradationOptions : IValidatableObject
{
    public const string Section = "Degradation";

    public bool Enabled { get; set; }

    /// <summary>What is held to the objective.</summary>
    public DegradationSignal Signal { get; set; } = DegradationSignal.Latency;

    /// <summary>The objective: the <see cref="Percentile"/> of the signal stays at or below this many milliseconds.</summary>
    [Range(0.1, 600_000)]
    public double ObjectiveMilliseconds { get; set; } = 50;

    /// <summary>Which percentile of the signal the objective bounds (0.99: p99).</summary>
    [Range(0.5, 1.0)]
    public double Percentile { get; set; } = 0.99;

    /// <summary>The point requests get while nothing is degraded; empty means the bundle's default operating point.</summary>
    public string? BaseOperatingPoint { get; set; }

    /// <summary>
    /// Optional floor on accuracy (a fraction, 0.92 for 92 %): no step whose validation accuracy is below it is ever
    /// taken, and a step whose live agreement with full depth (from the agreement sampler) implies an accuracy below it
    /// is left and not taken again until the model is reloaded.
    /// </summary>
    [Range(0.0, 1.0)]
    public double? AccuracyFloor { get; set; }

    /// <summary>Sampled answers a step needs before its live agreement is trusted for the floor.</summary>
    [Range(1, 1_000_000)]
    public int MinAgreementSamples { get; set; } = 100;

    /// <summary>Step down (cheaper) when the signal's percentile passes this share of the objective: acts before it is missed.</summary>
    [Range(0.05, 1.0)]
    public double DegradeAt { get; set; } = 0.8;

    /// <summary>Step back up only while the percentile stays below this share of the objective (hysteresis: well under <see cref="DegradeAt"/>).</summary>
    [Range(0.0, 1.0)]
    public double RecoverBelow { get; set; } = 0.4;

    /// <summary>How long the signal must stay below <see cref="RecoverBelow"/> before each step back up.</summary>
    [Range(0, 600_000)]
    public int RecoverAfterMilliseconds { get; set; } = 2000;

    /// <summary>How often the controller decides; each decision moves at most one step.</summary>
    [Range(10, 60_000)]
    public int IntervalMilliseconds { get; set; } = 200;

    /// <summary>The span of recent requests the percentile is computed over.</summary>
    [Range(10, 600_000)]
    public int WindowMilliseconds { get; set; } = 1000;

    /// <summary>Steps below the base point at most; the front is thinned evenly by cost to this many.</summary>
    [Range(1, 64)]
    public int MaxSteps { get; set; } = 6;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RecoverBelow >= DegradeAt)
            yield return new ValidationResult($"RecoverBelow ({RecoverBelow}) must be below DegradeAt ({DegradeAt}), or the controller oscillates",
                [nameof(RecoverBelow), nameof(DegradeAt)]);
    }
}
