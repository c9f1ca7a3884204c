using System.Reflection;
using ScanService.Api.Classifier;
using ScanService.Api.ModelLoading;

namespace ScanService.Api.OpenInference;

/// <summary>
/// The Open Inference Protocol (KServe v2) as this server speaks it, whatever the transport: its names for the
/// inputs, outputs and parameters, the datatypes, and what the model's metadata says. The REST routes (Rest/) and the
/// gRPC service (Grpc/) both describe the model and fill their answers from here.
/// </summary>
public static class InferenceProtocol
{
    public const string ServerName = "scanservice";
    /// <summary>A chain of ONNX graphs run by ONNX Runtime; the early exit is this server's own.</summary>
    public const string Platform = "onnxruntime_onnx";

    public const string Fp32 = "FP32";
    public const string Bytes = "BYTES";
    public const string Int64 = "INT64";

    /// <summary>The BYTES input: one encoded image per element (base64 in JSON).</summary>
    public const string ImageInput = "image";

    public const string Probabilities = "probabilities";
    public const string ClassIndex = "class_index";
    public const string ExitIndex = "exit_index";
    public const string Confidence = "confidence";
    /// <summary>Every output, in the order answers list them.</summary>
    public static readonly IReadOnlyList<string> Outputs = [Probabilities, ClassIndex, ExitIndex, Confidence];

    /// <summary>Request parameters that choose how deep the model goes (others are left to the clients that send them).</summary>
    public const string OperatingPoint = "operating_point";
    public const string MaxExit = "max_exit";
    public const string FullDepth = "full_depth";
    public const string Ensemble = "ensemble";
    /// <summary>Request: false keeps a request without an operating point at the default one under overload. Response: whether the answers were degraded.</summary>
    public const string Degrade = "degrade";
    public const string Degraded = "degraded";

    /// <summary>The server's version, without the source revision the SDK appends after '+'.</summary>
    public static string ServerVersion { get; } =
        typeof(InferenceProtocol).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(InferenceProtocol).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    /// <summary>A tensor as the metadata describes it; -1 is a dimension of any size.</summary>
    public sealed record TensorDescription(string Name, string Datatype, long[] Shape);

    /// <summary>The FP32 input is named as the first stage's input in the manifest.</summary>
    public static string TensorInput(LoadedModel model) => model.Manifest.Stages[0].Graph.Input.Name;

    /// <summary>FP32 [N, C, H, W] already normalised, or BYTES [N] of encoded images: requests are told apart by datatype.</summary>
    public static IReadOnlyList<TensorDescription> InputsOf(LoadedModel model)
    {
        var input = model.Manifest.Input;
        return
        [
            new(TensorInput(model), Fp32, [-1, input.Channels, input.Height, input.Width]),
            new(ImageInput, Bytes, [-1]),
        ];
    }

    public static IReadOnlyList<TensorDescription> OutputsOf(LoadedModel model) =>
    [
        new(Probabilities, Fp32, [-1, model.Manifest.Labels.Count]),
        new(ClassIndex, Int64, [-1]),
        new(ExitIndex, Int64, [-1]),
        new(Confidence, Fp32, [-1]),
    ];

    /// <summary>Whether <paramref name="model"/> is the one asked for (any version when none is given).</summary>
    public static bool Serves(LoadedModel model, string name, string? version) =>
        string.Equals(model.Name, name, StringComparison.Ordinal) && (string.IsNullOrEmpty(version) || string.Equals(model.Version, version, StringComparison.Ordinal));

    /// <summary>Why <paramref name="name"/> (and <paramref name="version"/>) is not served here: for the 404 and NOT_FOUND alike.</summary>
    public static string NotServed(LoadedModel model, string name, string? version) =>
        string.Equals(model.Name, name, StringComparison.Ordinal)
            ? $"Model '{name}' has no version '{version}'; the version served is '{model.Version}'."
            : $"Unknown model '{name}'; this server serves '{model.Name}'.";

    /// <summary>The datatype of an output.</summary>
    public static string DatatypeOf(string output) => output is ClassIndex or ExitIndex ? Int64 : Fp32;

    /// <summary>The shape of an output for <paramref name="count"/> answers of a model with <paramref name="classes"/> classes.</summary>
    public static long[] ShapeOf(string output, int count, int classes) => output == Probabilities ? [count, classes] : [count];

    /// <summary>An FP32 output's values for the answers, row-major.</summary>
    public static float[] FloatValues(string output, IReadOnlyList<Classification> answers) => output switch
    {
        Probabilities => answers.SelectMany(a => a.Prediction.Probabilities).ToArray(),
        Confidence => answers.Select(a => a.Prediction.Confidence).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "not an FP32 output"),
    };

    /// <summary>An INT64 output's values for the answers.</summary>
    public static long[] IntegerValues(string output, IReadOnlyList<Classification> answers) => output switch
    {
        ClassIndex => answers.Select(a => (long)a.Prediction.ClassIndex).ToArray(),
        ExitIndex => answers.Select(a => (long)a.Prediction.Exit).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "not an INT64 output"),
    };

    /// <summary>The outputs asked for, in the protocol's order; all of them when none is named.</summary>
    public static IReadOnlyList<string> RequestedOutputs(IEnumerable<string> names, Func<string, Exception> unknown)
    {
        var requested = names.ToList();
        if (requested.Count == 0) return Outputs;
        if (requested.FirstOrDefault(n => !Outputs.Contains(n)) is { } bad) throw unknown(bad);
        return Outputs.Where(requested.Contains).ToList();
    }
}
