namespace ScanService.Core.Inference;

/// <summary>What a caller may ask of one request.</summary>
public sealed record InferenceOptions
{
    /// <summary>Named threshold set; null means the bundle's default.</summary>
    public string? OperatingPoint { get; init; }
    /// <summary>Deepest exit allowed (1-based); the sample answers there if no earlier exit fired.</summary>
    public int? MaxExit { get; init; }
    /// <summary>No early exit: run the stages to the last allowed exit and only that exit's head.</summary>
    public bool FullDepth { get; init; }
    /// <summary>Run every exit up to the last allowed one and answer with the mean of their logits.</summary>
    public bool Ensemble { get; init; }
    /// <summary>
    /// Whether a serving layer that degrades under overload may answer this request from a cheaper point than the
    /// default (only when it names no operating point); the engine itself ignores it.
    /// </summary>
    public bool AllowDegradation { get; init; } = true;

    public static readonly InferenceOptions Default = new();
}

public enum ExitMode
{
    /// <summary>Answer at the first exit whose softmax maximum reaches its threshold.</summary>
    EarlyExit,
    FullDepth,
    Ensemble,
}

/// <summary>Options resolved against a bundle: what the engine will actually do.</summary>
public sealed record ExitPlan(ExitMode Mode, IReadOnlyList<float> Thresholds, int LastExit, string? OperatingPoint)
{
    /// <summary>
    /// Set by a serving layer that degrades under overload: the request named no operating point and is served at a
    /// cheaper one than it would be unloaded. Not part of <see cref="Key"/>: the work and the answers are the point's.
    /// </summary>
    public bool Degraded { get; init; }

    /// <summary>Same work and same answers: requests with equal plans can share a batch.</summary>
    public string Key => $"{Mode}|{LastExit}|{string.Join(',', Thresholds)}";
}

/// <summary>A request option that does not fit the loaded model (unknown operating point, maxExit out of range...).</summary>
public sealed class InvalidInferenceOptionsException(string message) : ArgumentException(message);
