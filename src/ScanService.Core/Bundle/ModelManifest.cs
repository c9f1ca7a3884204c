using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScanService.Core.Bundle;

/// <summary>
/// <c>manifest.json</c>: the one contract between training and serving. Everything the service needs to
/// chain the graphs of a SCAN model lives here; the ONNX files hold only weights and operators.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>The schema this code writes and the only one it reads.</summary>
    public const int CurrentSchemaVersion = 1;
    public const string FileName = "manifest.json";

    public required int SchemaVersion { get; init; }
    public required ModelIdentity Model { get; init; }
    public required InputSpec Input { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>ONNX opset every graph of the bundle is written for.</summary>
    public required int Opset { get; init; }
    /// <summary>Backbone stages in execution order; stage k feeds stage k+1 and exit k.</summary>
    public required IReadOnlyList<StageSpec> Stages { get; init; }
    /// <summary>Exits in depth order; exit k reads the output of stage k.</summary>
    public required IReadOnlyList<ExitSpec> Exits { get; init; }
    /// <summary>The same weights as one full-depth graph: what a user would serve without early exit.</summary>
    public required GraphSpec Monolithic { get; init; }
    public IReadOnlyList<OperatingPoint> OperatingPoints { get; init; } = [];
    public string? DefaultOperatingPoint { get; init; }
    /// <summary>
    /// The tuning's whole accuracy-vs-cost front on the validation split, cheapest first, each point named
    /// (<c>front-01</c>, <c>front-02</c>...) so that a request can pin it and an answer can say which one served it:
    /// the steps graceful degradation takes under overload. Optional: bundles written before it have none.
    /// </summary>
    public IReadOnlyList<OperatingPoint> ParetoFront { get; init; } = [];
    public TrainingRecord? Training { get; init; }
    /// <summary>
    /// The file (listed in <see cref="Files"/>) holding every exit's confidence and correctness on the validation split,
    /// from which thresholds can be chosen again where the bundle is served (<c>scan-bench calibrate</c>). Optional.
    /// </summary>
    public string? ValidationRecords { get; init; }
    /// <summary>What the last calibration measured and chose, on which machine and provider; absent until calibrated.</summary>
    public CalibrationRecord? Calibration { get; init; }
    /// <summary>SHA-256 (lower-case hex) of every file of the bundle but the manifest, by file name.</summary>
    public required IReadOnlyDictionary<string, string> Files { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Multiply-adds of the monolithic graph: the unit of every relative cost.</summary>
    [JsonIgnore]
    public long FullDepthMultiplyAdds => Monolithic.MultiplyAdds;

    /// <summary>A named operating point or a point of the front, by name (case-insensitive); named points first.</summary>
    public OperatingPoint? FindOperatingPoint(string name) =>
        OperatingPoints.Concat(ParetoFront).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every point a request may name: the named operating points, then the front's.</summary>
    [JsonIgnore]
    public IEnumerable<OperatingPoint> AllOperatingPoints => OperatingPoints.Concat(ParetoFront);

    /// <summary>The name of the front's point at <paramref name="index"/> (0-based, cheapest first).</summary>
    public static string FrontPointName(int index) => $"front-{index + 1:00}";
}

public sealed record ModelIdentity(string Name, string Version);

public enum ColorMode
{
    Grayscale,
    Rgb,
}

/// <summary>How an image of any size is brought to the network's input size.</summary>
public enum ResizeMode
{
    /// <summary>Scale both sides to the input size, ignoring aspect ratio.</summary>
    Stretch,
    /// <summary>Scale the longer side to fit and pad the rest with the background value (zero before normalisation).</summary>
    Fit,
}

public sealed record InputSpec
{
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required ColorMode ColorMode { get; init; }
    /// <summary>Per-channel mean of pixel values scaled to [0, 1], computed on the training split.</summary>
    public required IReadOnlyList<float> Mean { get; init; }
    public required IReadOnlyList<float> Std { get; init; }
    public ResizeMode Resize { get; init; } = ResizeMode.Stretch;
    /// <summary>Colour images that are light objects on a dark background (as Fashion-MNIST) need no inversion; kept for user data.</summary>
    public bool Invert { get; init; }

    [JsonIgnore]
    public int PixelsPerSample => Channels * Height * Width;
}

/// <summary>A tensor at a graph boundary; the batch dimension is written as -1.</summary>
public sealed record TensorSpec(string Name, IReadOnlyList<long> Shape)
{
    public bool SameShapeAs(TensorSpec other) => Shape.SequenceEqual(other.Shape);
    public override string ToString() => $"{Name}[{string.Join(',', Shape)}]";
}

/// <summary>One ONNX graph: one input, one output.</summary>
public sealed record GraphSpec
{
    public required string File { get; init; }
    public required TensorSpec Input { get; init; }
    public required TensorSpec Output { get; init; }
    /// <summary>Multiply-adds per sample of this graph alone.</summary>
    public required long MultiplyAdds { get; init; }
    public long Parameters { get; init; }
}

public sealed record StageSpec
{
    public required int Index { get; init; }
    public required GraphSpec Graph { get; init; }
}

public sealed record ExitSpec
{
    /// <summary>1-based depth; exit k reads stage k.</summary>
    public required int Index { get; init; }
    /// <summary>Null for the deepest exit, which is the backbone's own head.</summary>
    public GraphSpec? Attention { get; init; }
    /// <summary>Produces logits [-1, classes].</summary>
    public required GraphSpec Classifier { get; init; }
    /// <summary>
    /// Multiply-adds per sample of everything that runs until this exit answers under early exit:
    /// stages 1..k, attention modules 1..k and every head 1..k (including those that did not fire).
    /// </summary>
    public required long CumulativeMultiplyAdds { get; init; }
    /// <summary>Parameters a deployment truncated at this exit needs (stages, attention and head up to k).</summary>
    public long CumulativeParameters { get; init; }
}

/// <summary>A named set of per-exit confidence thresholds.</summary>
public sealed record OperatingPoint
{
    public required string Name { get; init; }
    /// <summary>One threshold per exit; above 1 means the exit never answers; the last is ignored, the deepest exit always answers.</summary>
    public required IReadOnlyList<float> Thresholds { get; init; }
    public double ValidationAccuracy { get; init; }
    /// <summary>Mean multiply-adds on the validation split relative to the monolithic graph.</summary>
    public double RelativeCost { get; init; }
    public double? TestAccuracy { get; init; }
    public double? TestRelativeCost { get; init; }
    /// <summary>Mean measured time on the validation split relative to the monolithic graph's, where the bundle was calibrated (<see cref="ModelManifest.Calibration"/>).</summary>
    public double? RelativeTime { get; init; }
    public IReadOnlyList<double>? TestExitShares { get; init; }
}

public sealed record TrainingRecord
{
    public string? Dataset { get; init; }
    public int? Epochs { get; init; }
    public int? Seed { get; init; }
    public string? Architecture { get; init; }
    public IReadOnlyList<double>? TestAccuracyPerExit { get; init; }
    public double? EnsembleTestAccuracy { get; init; }
    public IReadOnlyList<string>? Commands { get; init; }
    public string? Duration { get; init; }
    public IReadOnlyDictionary<string, string>? Notes { get; init; }
}

/// <summary>
/// A calibration: each graph's time per sample on one machine and execution provider, and each named point's
/// thresholds chosen against those times (from the validation records), beside the thresholds training chose.
/// </summary>
public sealed record CalibrationRecord
{
    public required string Machine { get; init; }
    public required string ExecutionProvider { get; init; }
    /// <summary>Batch size the graphs were timed at (times are per sample).</summary>
    public required int BatchSize { get; init; }
    /// <summary>UTC, ISO 8601.</summary>
    public required string MeasuredAt { get; init; }
    /// <summary>Milliseconds per sample of the monolithic graph: the unit of every relative time.</summary>
    public required double MonolithicMs { get; init; }
    /// <summary>Milliseconds per sample of each backbone stage.</summary>
    public required IReadOnlyList<double> StageMs { get; init; }
    /// <summary>Milliseconds per sample of each exit's head (attention module and classifier).</summary>
    public required IReadOnlyList<double> HeadMs { get; init; }
    public required IReadOnlyList<CalibratedPoint> Points { get; init; }
}

/// <summary>One named point before and after calibration, on the validation split.</summary>
/// <param name="Name">The operating point.</param>
/// <param name="MultiplyAddThresholds">The thresholds training's search chose (least multiply-adds).</param>
/// <param name="Thresholds">The thresholds of least measured time at least as accurate on validation.</param>
/// <param name="ValidationAccuracy">Accuracy of <paramref name="Thresholds"/> on the validation records.</param>
/// <param name="MultiplyAddRelativeTime">Measured time of the training thresholds, relative to the monolithic graph.</param>
/// <param name="RelativeTime">Measured time of the calibrated thresholds, relative to the monolithic graph.</param>
/// <param name="MultiplyAddRelativeCost">Multiply-adds of the training thresholds, relative to the monolithic graph.</param>
/// <param name="RelativeCost">Multiply-adds of the calibrated thresholds, relative to the monolithic graph.</param>
public sealed record CalibratedPoint(string Name, IReadOnlyList<float> MultiplyAddThresholds, IReadOnlyList<float> Thresholds, double ValidationAccuracy,
    double MultiplyAddRelativeTime, double RelativeTime, double MultiplyAddRelativeCost, double RelativeCost);
