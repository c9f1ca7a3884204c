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
public sealed record ExitSummary(int Index, long MultiplyAdds, double RelativeCost);

/// <summary>A named set of per-exit confidence thresholds and its figures.</summary>
/// <param name="Name">Name to pass as operatingPoint.</param>
/// <param name="Thresholds">Per exit: a sample leaves at the first exit whose softmax maximum reaches its threshold (the last exit always answers).</param>
/// <param name="ValidationAccuracy">Accuracy on the validation split it was tuned on.</param>
/// <param name="RelativeCost">Mean multiply-adds on the validation split relative to the monolithic network.</param>
/// <param name="TestAccuracy">Accuracy on the test split, when measured.</param>
/// <param name="TestRelativeCost">Relative cost on the test split, when measured.</param>
/// <param name="TestExitShares">Share of test images answered at each exit, when measured.</param>
public sealed record OperatingPointSummary(
    string Name, IReadOnlyList<float> Thresholds, double ValidationAccuracy, double RelativeCost,
    double? TestAccuracy, double? TestRelativeCost, IReadOnlyList<double>? TestExitShares);

/// <summary>The execution provider in use.</summary>
/// <param name="Name">ONNX Runtime's name for it (CPUExecutionProvider, CUDAExecutionProvider).</param>
/// <param name="Reason">Why it was chosen.</param>
/// <param name="FeatureMemory">Where feature maps live between graphs: Device (the provider's memory, bound with IOBinding) or Host (pooled arrays).</param>
public sealed record ExecutionProviderSummary(string Name, string Reason, string FeatureMemory);
