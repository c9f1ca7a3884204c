using System.Globalization;

namespace ScanService.Benchmarks.Overload;

/// <summary>Everything one overload run was asked to do; written beside its results.</summary>
public sealed record OverloadSettings
{
    public required string BundlePath { get; init; }
    public required string DataFolder { get; init; }
    public required string ServiceDll { get; init; }
    public required string OutputFolder { get; init; }
    /// <summary>Test images cycled through, in order: the first N of the 10,000.</summary>
    public required int Limit { get; init; }
    /// <summary>Closed-loop clients of the capacity probe and of every warm-up.</summary>
    public required int CapacityClients { get; init; }
    public required double CapacitySeconds { get; init; }
    /// <summary>Closed-loop warm-up before the capacity probe and before each open-loop run (JIT, ONNX Runtime's arenas at every batch size, connections).</summary>
    public required double WarmUpSeconds { get; init; }
    /// <summary>Length of each open-loop run.</summary>
    public required double Seconds { get; init; }
    /// <summary>Offered load of each run as a multiple of the measured capacity.</summary>
    public required IReadOnlyList<double> Multipliers { get; init; }
    public required IReadOnlyList<OverloadMode> Modes { get; init; }
    /// <summary>The latency objective: what the adaptive modes are configured with and what every run's p99 is checked against.</summary>
    public required double ObjectiveMilliseconds { get; init; }
    /// <summary>Seed of the Poisson arrivals: every run at every multiplier gets the same sequence, scaled to its rate, so modes face the same bursts.</summary>
    public required int Seed { get; init; }
    /// <summary>
    /// Connections the client may open. It must stay above what the service can hold (its queue plus a batch in
    /// flight): otherwise requests wait in the client's pool instead of being refused by the service, and the run
    /// measures the client's queue.
    /// </summary>
    public required int MaxConnections { get; init; }
    public required string Command { get; init; }

    /// <summary>Where the arrival schedule is checked: requests sent later than this after their time are counted as late (the client could not keep up).</summary>
    public const double LateMilliseconds = 5;

    /// <summary>The service's configuration for <paramref name="mode"/>: batching as the service's own appsettings.json has it.</summary>
    public IReadOnlyDictionary<string, string> ServiceSettings(OverloadMode mode)
    {
        var settings = new Dictionary<string, string>
        {
            ["Model:BundlePath"] = Path.GetFullPath(BundlePath),
            // A log line per request would cost more than some requests, and refusals come by the thousand here.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Degradation:Enabled"] = mode.Adaptive ? "true" : "false",
        };
        if (mode.Adaptive)
        {
            settings["Degradation:ObjectiveMilliseconds"] = ObjectiveMilliseconds.ToString(CultureInfo.InvariantCulture);
            settings["Degradation:Signal"] = "Latency";
            if (mode.BaseOperatingPoint is not null) settings["Degradation:BaseOperatingPoint"] = mode.BaseOperatingPoint;
        }
        return settings;
    }
}

/// <summary>
/// How a run's service is configured and what its requests ask for: a fixed operating point pinned on every request
/// with degradation off, or no point on the request and the service free to degrade towards the latency objective.
/// </summary>
public sealed record OverloadMode(string Name, string? OperatingPoint, bool Adaptive, string? BaseOperatingPoint)
{
    public const string AdaptiveName = "adaptive";
    public const string AdaptiveFromAccurateName = "adaptive-from-accurate";

    public static readonly IReadOnlyList<string> Defaults = ["fast", "balanced", "accurate", AdaptiveName, AdaptiveFromAccurateName];

    /// <summary><c>adaptive</c>, <c>adaptive-from-accurate</c>, or the name of one of the bundle's operating points.</summary>
    public static OverloadMode Parse(string name) => name switch
    {
        AdaptiveName => new(name, null, true, null),
        AdaptiveFromAccurateName => new(name, null, true, "accurate"),
        _ => new(name, name, false, null),
    };

    /// <summary>POST /v1/classify with the mode's query; topK=1 keeps the answers short, as the main benchmark's are.</summary>
    public string Path => OperatingPoint is null ? "/v1/classify?topK=1" : $"/v1/classify?operatingPoint={Uri.EscapeDataString(OperatingPoint)}&topK=1";
}
