using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScanService.Api.OpenInference.Rest;

// The JSON shapes of the Open Inference Protocol (KServe v2) REST API, as the protocol publishes them.

/// <summary>An error, as the protocol writes it.</summary>
/// <param name="Error">What went wrong, for the client.</param>
public sealed record InferenceError([property: JsonPropertyName("error")] string Error);

/// <summary>Server metadata.</summary>
public sealed record ServerMetadataResponse
{
    /// <summary>The server's name.</summary>
    public required string Name { get; init; }
    /// <summary>The server's version.</summary>
    public required string Version { get; init; }
    /// <summary>Protocol extensions the server supports: <c>binary_tensor_data</c> and <c>parameters</c>.</summary>
    public required IReadOnlyList<string> Extensions { get; init; }
}

/// <summary>Model metadata.</summary>
public sealed record ModelMetadataResponse
{
    /// <summary>The model's name (the bundle manifest's model name).</summary>
    public required string Name { get; init; }
    /// <summary>The versions served: the loaded bundle's version.</summary>
    public required IReadOnlyList<string> Versions { get; init; }
    /// <summary>The framework that runs the model.</summary>
    public required string Platform { get; init; }
    /// <summary>
    /// The inputs a request may carry, exactly one per request: <c>input</c>, an FP32 tensor already preprocessed
    /// (N×C×H×W, normalised as the manifest says), or <c>image</c>, BYTES holding one base64-encoded image
    /// (PNG, JPEG, BMP, WebP or GIF) per element.
    /// </summary>
    public required IReadOnlyList<TensorMetadata> Inputs { get; init; }
    /// <summary>The outputs every answer carries.</summary>
    public required IReadOnlyList<TensorMetadata> Outputs { get; init; }
}

/// <summary>A tensor's name, datatype and shape; -1 marks the batch dimension.</summary>
public sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

/// <summary>An inference request.</summary>
public sealed record InferRequest
{
    /// <summary>Echoed in the answer.</summary>
    public string? Id { get; init; }
    /// <summary>
    /// Inference options: <c>operating_point</c> (string, a named threshold set), <c>max_exit</c> (integer, deepest exit
    /// allowed, 1-based), <c>full_depth</c> (boolean, no early exit), <c>ensemble</c> (boolean, mean of every exit's logits).
    /// </summary>
    public Dictionary<string, JsonElement>? Parameters { get; init; }
    /// <summary>Exactly one input: <c>input</c> (FP32) or <c>image</c> (BYTES); see the model metadata.</summary>
    [Required]
    public IReadOnlyList<InferInputTensor>? Inputs { get; init; }
    /// <summary>Outputs wanted; all of them when absent.</summary>
    public IReadOnlyList<InferRequestedOutput>? Outputs { get; init; }
}

/// <summary>One input tensor of a request.</summary>
public sealed record InferInputTensor
{
    /// <summary><c>input</c> or <c>image</c>.</summary>
    [Required]
    public string? Name { get; init; }
    /// <summary>[N, C, H, W] for <c>input</c>; [N] (or [N, 1]) for <c>image</c>.</summary>
    [Required]
    public IReadOnlyList<long>? Shape { get; init; }
    /// <summary><c>FP32</c> for <c>input</c>, <c>BYTES</c> for <c>image</c>.</summary>
    [Required]
    public string? Datatype { get; init; }
    /// <summary>
    /// Input parameters: <c>binary_data_size</c> (the binary data extension) says the tensor is not in <c>data</c> but
    /// in that many bytes of the body after the JSON part.
    /// </summary>
    public Dictionary<string, JsonElement>? Parameters { get; init; }
    /// <summary>
    /// The elements in row-major order, flat or nested as the shape: finite numbers for FP32, base64 strings
    /// (one encoded image each) for BYTES. Absent when the tensor is sent as binary data.
    /// </summary>
    public JsonElement Data { get; init; }
}

/// <summary>An output the client wants.</summary>
/// <param name="Name">One of the outputs listed in the model metadata.</param>
/// <param name="Parameters"><c>binary_data</c>: true to have this output as binary data after the JSON part.</param>
public sealed record InferRequestedOutput(string Name, Dictionary<string, JsonElement>? Parameters = null);

/// <summary>An inference answer.</summary>
public sealed record InferResponse
{
    /// <summary>The model that answered.</summary>
    [JsonPropertyName("model_name")]
    public required string ModelName { get; init; }
    /// <summary>Its version.</summary>
    [JsonPropertyName("model_version")]
    public required string ModelVersion { get; init; }
    /// <summary>The request's id, when it had one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; init; }
    /// <summary>As over gRPC: <c>operating_point</c>, the named threshold set that decided (early-exit answers only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, object>? Parameters { get; init; }
    /// <summary>
    /// <c>probabilities</c> (FP32 [N, classes], softmax at the exit that answered), <c>class_index</c> (INT64 [N]),
    /// <c>exit_index</c> (INT64 [N], 1-based exit that answered) and <c>confidence</c> (FP32 [N], the class's probability).
    /// </summary>
    public required IReadOnlyList<InferOutputTensor> Outputs { get; init; }
}

/// <summary>One output tensor of an answer.</summary>
public sealed record InferOutputTensor
{
    public required string Name { get; init; }
    public required string Datatype { get; init; }
    public required IReadOnlyList<long> Shape { get; init; }
    /// <summary>The elements, flat in row-major order; absent for an output sent as binary data.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public object? Data { get; init; }
    /// <summary><c>binary_data_size</c>: the output's bytes in the binary part, in the order of the outputs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, object>? Parameters { get; init; }
}
