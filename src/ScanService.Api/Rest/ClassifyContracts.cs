using ScanService.Api.Classifier;
using ScanService.Core.Inference;

namespace ScanService.Api.Rest;

/// <summary>One image's answer.</summary>
public sealed record ClassifyResponse
{
    /// <summary>Label of the most probable class.</summary>
    public required string Label { get; init; }
    /// <summary>Index of that class in the model's labels (0-based).</summary>
    public required int ClassIndex { get; init; }
    /// <summary>Its probability (softmax at the exit that answered; for the ensemble, of the mean logits).</summary>
    public required float Confidence { get; init; }
    /// <summary>The most probable classes, most probable first.</summary>
    public required IReadOnlyList<ClassProbability> TopK { get; init; }
    /// <summary>The exit that answered, 1-based (1 is the shallowest, exitCount the full network).</summary>
    public required int Exit { get; init; }
    /// <summary>How many exits the model has.</summary>
    public required int ExitCount { get; init; }
    /// <summary>earlyExit (thresholds of an operating point), fullDepth (no early exit) or ensemble (mean of every exit's logits).</summary>
    public required ExitMode Mode { get; init; }
    /// <summary>The operating point whose thresholds decided (a named one or a point of the model's front, front-NN), in earlyExit mode; null otherwise.</summary>
    public string? OperatingPoint { get; init; }
    /// <summary>True when the service was overloaded and served this request, which named no operating point, at a cheaper one than its default (graceful degradation).</summary>
    public bool Degraded { get; init; }
    /// <summary>Where the time went.</summary>
    public required ClassifyTimings Timings { get; init; }
    /// <summary>The model that answered.</summary>
    public required ModelReference Model { get; init; }

    public static ClassifyResponse From(Classification classification, int topK) => new()
    {
        Label = classification.Label,
        ClassIndex = classification.Prediction.ClassIndex,
        Confidence = classification.Prediction.Confidence,
        TopK = classification.Prediction.Top(topK)
            .Select(c => new ClassProbability(classification.Model.Manifest.Labels[c.ClassIndex], c.ClassIndex, c.Probability))
            .ToList(),
        Exit = classification.Prediction.Exit,
        ExitCount = classification.ExitCount,
        Mode = classification.Plan.Mode,
        OperatingPoint = classification.Plan.OperatingPoint,
        Degraded = classification.Degraded,
        Timings = new ClassifyTimings(classification.Preprocessing.TotalMilliseconds, classification.Inference.TotalMilliseconds),
        Model = new ModelReference(classification.Model.Name, classification.Model.Version),
    };
}

/// <summary>A class and its probability.</summary>
/// <param name="Label">The class's label.</param>
/// <param name="ClassIndex">Its index in the model's labels (0-based).</param>
/// <param name="Probability">Its probability.</param>
public sealed record ClassProbability(string Label, int ClassIndex, float Probability);

/// <summary>Time spent on the request; for a batch, on the whole batch.</summary>
/// <param name="PreprocessMs">Decoding, resizing and normalising, in milliseconds.</param>
/// <param name="InferenceMs">Running the network, in milliseconds.</param>
public sealed record ClassifyTimings(double PreprocessMs, double InferenceMs);

/// <summary>A model's name and version.</summary>
/// <param name="Name">The manifest's model name.</param>
/// <param name="Version">The manifest's model version.</param>
public sealed record ModelReference(string Name, string Version);

/// <summary>The answers to a batch, in the order of the request's image parts.</summary>
/// <param name="Results">One answer per image.</param>
public sealed record BatchClassifyResponse(IReadOnlyList<ClassifyResponse> Results);
