using ScanService.Core.Bundle;

namespace ScanService.Api.Rest;

/// <summary>What the loaded model is and what a caller may ask of it.</summary>
public sealed record ModelSummaryResponse
{
    /// <summary>The manifest's model name.</summary>
    public required string Name { get; init; }
    /// <summary>The manifest's model version.</summary>
    public required string Version { get; init; }
    /// <summary>What an image becomes before it reaches the network.</summary>
    public required ModelInputSummary Input { get; init; }
    /// <summary>Class labels by class index.</summary>
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>The exits, shallowest first, with what it costs to answer at each.</summary>
    public required IReadOnlyList<ExitSummary> Exits { get; init; }
    /// <summary>Named threshold sets with their measured accuracy and cost.</summary>
    public required IReadOnlyList<OperatingPointSummary> OperatingPoints { get; init; }
    /// <summary>The operating point used when a request names none; null means full depth.</summary>
    public string? DefaultOperatingPoint { get; init; }
    /// <summary>The tuning's whole accuracy-vs-cost front on the validation split, cheapest first; any of its points may be named as operatingPoint.</summary>
    public IReadOnlyList<OperatingPointSummary> ParetoFront { get; init; } = [];
    /// <summary>Where and when the bundle's thresholds were chosen for measured time (scan-bench calibrate): each graph's time per sample there, and each point's thresholds before and after; null until calibrated.</summary>
    public CalibrationRecord? Calibration { get; init; }
    /// <summary>Graceful degradation under overload: its configuration, its steps for this model and where it stands now.</summary>
    public required DegradationSummary Degradation { get; init; }
    /// <summary>The ONNX Runtime execution provider the graphs run on, and why it was chosen.</summary>
    public required ExecutionProviderSummary ExecutionProvider { get; init; }
}

/// <summary>The network's input and how an arbitrary image is brought to it.</summary>
/// <param name="Channels">Channels (1 grey, 3 RGB).</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="ColorMode">grayscale or rgb.</param>
/// <param name="Mean">Per-channel mean subtracted from pixel values scaled to [0, 1].</param>
/// <param name="Std">Per-channel standard deviation they are divided by.</param>
/// <param name="Resize">stretch (both sides to the input size) or fit (longer side fits, the rest padded).</param>
/// <param name="Invert">Whether pixel values are inverted after colour conversion.</param>
public sealed record ModelInputSummary(int Channels, int Height, int Width, ColorMode ColorMode, IReadOnlyList<float> Mean, IReadOnlyList<float> Std, ResizeMode Resize, bool Invert);

/// <summary>One exit.</summary>
/// <param name="Index">1-based depth.</param>
/// <param name="MultiplyAdds">Multiply-adds per image of everything that runs until this exit answers (stages, attention modules and heads up to it).</param>
/// <param name="RelativeCost">Those multiply-adds relative to the monolithic full-depth network.</param>
/// <param name="RelativeTime">The measured time of the same graphs relative to the monolithic network's, where the bundle was calibrated (see calibration); null until calibrated.</param>
public sealed record ExitSummary(int Index, long MultiplyAdds, double RelativeCost, double? RelativeTime = null);

/// <summary>A named set of per-exit confidence thresholds and its figures.</summary>
/// <param name="Name">Name to pass as operatingPoint.</param>
/// <param name="Thresholds">Per exit: a sample leaves at the first exit whose softmax maximum reaches its threshold (the last exit always answers).</param>
/// <param name="ValidationAccuracy">Accuracy on the validation split it was tuned on.</param>
/// <param name="RelativeCost">Mean multiply-adds on the validation split relative to the monolithic network.</param>
/// <param name="TestAccuracy">Accuracy on the test split, when measured.</param>
/// <param name="TestRelativeCost">Relative cost on the test split, when measured.</param>
/// <param name="TestExitShares">Share of test images answered at each exit, when measured.</param>
/// <param name="RelativeTime">Mean measured time on the validation split relative to the monolithic network's, where the bundle was calibrated; null until calibrated.</param>
public sealed record OperatingPointSummary(
    string Name, IReadOnlyList<float> Thresholds, double ValidationAccuracy, double RelativeCost,
    double? TestAccuracy, double? TestRelativeCost, IReadOnlyList<double>? TestExitShares, double? RelativeTime = null);

/// <summary>The execution provider in use.</summary>
/// <param name="Name">ONNX Runtime's name for it (CPUExecutionProvider, CUDAExecutionProvider).</param>
/// <param name="Reason">Why it was chosen.</param>
/// <param name="FeatureMemory">Where feature maps live between graphs: Device (the provider's memory, bound with IOBinding) or Host (pooled arrays).</param>
/// <param name="FixedBatchSize">The one batch size every graph runs at (smaller batches padded, larger ones in parts), or null when each runs at the batch it is given (Model:FixedBatchSize).</param>
/// <param name="InlineMaxMultiplyAdds">Runs of at most this many multiply-adds stay on the calling thread instead of waking the shared intra-op pool (Model:InlineMaxMultiplyAdds), or null when every run uses the pool (always under CUDA).</param>
/// <param name="InlineMaxRows">What that allows per graph file: the largest run, in images, that stays on the calling thread (0: none); null with <paramref name="InlineMaxMultiplyAdds"/>.</param>
public sealed record ExecutionProviderSummary(string Name, string Reason, string FeatureMemory, int? FixedBatchSize = null, long? InlineMaxMultiplyAdds = null, IReadOnlyDictionary<string, int>? InlineMaxRows = null);

/// <summary>Graceful degradation: the controller's configuration and state.</summary>
/// <param name="Enabled">Whether requests that name no operating point may be served at cheaper points under overload.</param>
/// <param name="Signal">What is held to the objective: latency (decoding, queue wait and inference of each request) or queueWait.</param>
/// <param name="ObjectiveMs">The objective, in milliseconds, on the <paramref name="Percentile"/> of the signal.</param>
/// <param name="Percentile">Which percentile the objective bounds (0.99: p99).</param>
/// <param name="AccuracyFloor">No step below this validation accuracy is taken (null: no floor).</param>
/// <param name="Level">Steps below the base point now (0: not degraded).</param>
/// <param name="OperatingPoint">The point unpinned requests are served at now; null when disabled or when the model has no point to start from.</param>
/// <param name="MeasuredMs">The signal's percentile at the last decision, over the requests since the controller's last move (null: none measured).</param>
/// <param name="Samples">How many requests that percentile covers.</param>
/// <param name="DegradedRequests">Requests served at a cheaper point than their default since the service started.</param>
/// <param name="Steps">The points the controller steps through, base first, each cheaper than the one before.</param>
/// <param name="Blocked">Steps the live accuracy floor took away (their agreement with full depth implies an accuracy below the floor).</param>
/// <param name="Note">Why there is no step to take, when there is none.</param>
public sealed record DegradationSummary(
    bool Enabled, string Signal, double ObjectiveMs, double Percentile, double? AccuracyFloor, int Level, string? OperatingPoint,
    double? MeasuredMs, int Samples, long DegradedRequests, IReadOnlyList<OperatingPointSummary> Steps, IReadOnlyList<Degradation.BlockedStep> Blocked, string? Note);
