using System.Net.Http.Headers;
using System.Text.Json;
using ScanService.Api.Classifier;
using ScanService.Api.ModelLoading;
using ScanService.Api.Rest;
using ScanService.Api.Serving;
using static ScanService.Api.OpenInference.InferenceProtocol;
using ScanService.Core.Inference;

namespace ScanService.Api.OpenInference.Rest;

/// <summary>What an inference request asks for, checked against the loaded model: either a tensor or encoded images.</summary>
internal sealed record InferenceInput(InferenceOptions Options, int Count, float[]? Tensor, IReadOnlyList<EncodedImage>? Images, IReadOnlyList<string> Outputs, IReadOnlySet<string> BinaryOutputs);

/// <summary>A request as read off the wire: its JSON part and the binary tensor data after it (the protocol's binary data extension).</summary>
internal sealed record InferBody(InferRequest Request, ReadOnlyMemory<byte> Binary);

/// <summary>
/// Reads and checks an Open Inference Protocol request body. Every refusal is an <see cref="InvalidRequestException"/>
/// whose message names the input, element or parameter at fault.
/// </summary>
internal static class InferRequestReader
{
    /// <summary>
    /// Reads a request: JSON (with or without a JSON content type: the common clients may send none), or, under the
    /// binary data extension, an <c>Inference-Header-Content-Length</c> of JSON followed by the binary tensors.
    /// </summary>
    public static async Task<InferBody> ReadAsync(HttpRequest request, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        int? headerLength = null;
        if (request.Headers.TryGetValue(BinaryTensorData.HeaderLengthHeader, out var declared))
        {
            headerLength = int.TryParse(declared.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                ? n
                : throw InvalidRequestException.BadRequest($"{BinaryTensorData.HeaderLengthHeader} must be the byte length of the JSON part; got '{declared}'.");
        }
        else if (!string.IsNullOrEmpty(request.ContentType) && !IsJson(request.ContentType))
        {
            throw InvalidRequestException.UnsupportedMediaType(
                $"An inference request is JSON (application/json, or no content type), or JSON and binary tensors with an {BinaryTensorData.HeaderLengthHeader} header; the request says '{request.ContentType}'.");
        }

        var body = await ImageUploads.ReadBodyAsync(request, cancellationToken);
        var jsonLength = headerLength ?? body.Length;
        if (jsonLength > body.Length)
            throw InvalidRequestException.BadRequest($"{BinaryTensorData.HeaderLengthHeader} says {jsonLength} bytes of JSON; the body has {body.Length}.");
        try
        {
            var parsed = JsonSerializer.Deserialize<InferRequest>(body.Span[..jsonLength], json)
                ?? throw InvalidRequestException.BadRequest("The request body is null; an inference request is a JSON object.");
            return new InferBody(parsed, body[jsonLength..]);
        }
        catch (JsonException e)
        {
            // The serializer's own message names .NET types; the position is what the client needs.
            var line = e.LineNumber is { } l ? l + 1 : 1;
            var position = e.BytePositionInLine is { } b ? b + 1 : 1;
            throw InvalidRequestException.BadRequest(
                $"The request body is not a valid inference request: malformed JSON or a value of the wrong type at {e.Path ?? "$"} (line {line}, byte {position}).");
        }
    }

    public static InferenceInput Parse(InferBody body, LoadedModel model, ServingLimits limits)
    {
        var request = body.Request;
        var options = ReadOptions(request.Parameters);
        var outputs = ReadOutputs(request.Outputs);
        var binaryOutputs = BinaryOutputs(request, outputs);
        if (request.Inputs is not { Count: 1 } inputs)
            throw InvalidRequestException.BadRequest(
                $"An inference request has exactly one input, '{TensorInput(model)}' ({Fp32}) or '{ImageInput}' ({Bytes}); this one has {request.Inputs?.Count ?? 0}.");
        var input = inputs[0];
        if (string.IsNullOrEmpty(input.Name) || input.Datatype is null || input.Shape is null)
            throw InvalidRequestException.BadRequest("An input needs 'name', 'datatype', 'shape' and 'data'.");
        var binary = BinaryInput(input, body.Binary);

        if (input.Name == TensorInput(model))
        {
            RequireDatatype(input, Fp32);
            var (count, tensor) = ReadTensor(input, binary, model, limits);
            return new InferenceInput(options, count, tensor, null, outputs, binaryOutputs);
        }
        if (input.Name == ImageInput)
        {
            RequireDatatype(input, Bytes);
            var images = ReadImages(input, binary, limits);
            return new InferenceInput(options, images.Count, null, images, outputs, binaryOutputs);
        }
        throw InvalidRequestException.BadRequest(
            $"Unknown input '{input.Name}'; this model takes '{TensorInput(model)}' ({Fp32} [N, {string.Join(", ", SampleShape(model))}]) or '{ImageInput}' ({Bytes} [N], base64-encoded images).");
    }

    private static void RequireDatatype(InferInputTensor input, string datatype)
    {
        if (!string.Equals(input.Datatype, datatype, StringComparison.OrdinalIgnoreCase))
            throw InvalidRequestException.BadRequest($"Input '{input.Name}' has datatype {input.Datatype}; it must be {datatype}.");
    }

    private static long[] SampleShape(LoadedModel model) => [model.Manifest.Input.Channels, model.Manifest.Input.Height, model.Manifest.Input.Width];

    /// <summary>The input's bytes in the binary part when it says <c>binary_data_size</c>, else null; the part must hold exactly them.</summary>
    private static ReadOnlyMemory<byte>? BinaryInput(InferInputTensor input, ReadOnlyMemory<byte> binary)
    {
        if (input.Parameters is null || !input.Parameters.TryGetValue(BinaryTensorData.SizeParameter, out var declared))
        {
            if (!binary.IsEmpty)
                throw InvalidRequestException.BadRequest($"The body has {binary.Length} bytes after the JSON part, but input '{input.Name}' declares no {BinaryTensorData.SizeParameter}.");
            return null;
        }
        if (declared.ValueKind != JsonValueKind.Number || !declared.TryGetInt32(out var size) || size < 0)
            throw InvalidRequestException.BadRequest($"Input '{input.Name}' parameter '{BinaryTensorData.SizeParameter}' must be a non-negative integer.");
        if (input.Data.ValueKind != JsonValueKind.Undefined)
            throw InvalidRequestException.BadRequest($"Input '{input.Name}' has both 'data' and '{BinaryTensorData.SizeParameter}'; send one.");
        if (size != binary.Length)
            throw InvalidRequestException.BadRequest($"Input '{input.Name}' declares {size} bytes of binary data; the body has {binary.Length} after the JSON part.");
        return binary;
    }

    private static (int Count, float[] Tensor) ReadTensor(InferInputTensor input, ReadOnlyMemory<byte>? binary, LoadedModel model, ServingLimits limits)
    {
        var shape = input.Shape!;
        var sample = SampleShape(model);
        if (shape.Count != 4 || !shape.Skip(1).SequenceEqual(sample) || shape[0] < 1)
            throw InvalidRequestException.BadRequest(
                $"Input '{input.Name}' has shape {Format(shape)}; this model takes [N, {string.Join(", ", sample)}] with N at least 1.");
        var count = CheckBatch(input, shape[0], limits);
        var expected = count * model.Engine.SampleSize;
        if (binary is { } bytes)
        {
            var values = BinaryTensorData.Floats(bytes.Span, expected, problem => InvalidRequestException.BadRequest($"Input '{input.Name}' of shape {Format(shape)} {problem}."));
            var nonFinite = Array.FindIndex(values, v => !float.IsFinite(v));
            if (nonFinite >= 0)
                throw InvalidRequestException.BadRequest($"Input '{input.Name}' element {nonFinite} is {values[nonFinite]}: NaN and infinite values are refused.");
            return (count, values);
        }
        var elements = Elements(input, expected);
        var tensor = new float[expected];
        for (var i = 0; i < elements.Count; i++)
            tensor[i] = ToFinite(input.Name!, i, elements[i]);
        return (count, tensor);
    }

    private static List<EncodedImage> ReadImages(InferInputTensor input, ReadOnlyMemory<byte>? binary, ServingLimits limits)
    {
        var shape = input.Shape!;
        if (shape.Count is < 1 or > 2 || shape[0] < 1 || (shape.Count == 2 && shape[1] != 1))
            throw InvalidRequestException.BadRequest(
                $"Input '{input.Name}' has shape {Format(shape)}; images are sent as [N] (or [N, 1]) with N at least 1.");
        var count = CheckBatch(input, shape[0], limits);
        if (binary is { } raw)
        {
            var parts = BinaryTensorData.Elements(raw, count, problem => InvalidRequestException.BadRequest($"Binary BYTES input '{input.Name}' {problem}."));
            for (var i = 0; i < parts.Count; i++) limits.CheckImageBytes(parts[i].Length, i);
            return parts.Select((data, i) => new EncodedImage(data, $"input '{input.Name}', element {i}")).ToList();
        }
        var elements = Elements(input, count);
        var images = new List<EncodedImage>(count);
        for (var i = 0; i < elements.Count; i++)
        {
            if (elements[i].ValueKind != JsonValueKind.String || !elements[i].TryGetBytesFromBase64(out var bytes))
                throw InvalidRequestException.BadRequest($"Input '{input.Name}' element {i} is not a base64 string; each element is one base64-encoded image.");
            limits.CheckImageBytes(bytes.Length, i);
            images.Add(new EncodedImage(bytes, $"input '{input.Name}', element {i}"));
        }
        return images;
    }

    private static int CheckBatch(InferInputTensor input, long count, ServingLimits limits)
    {
        limits.CheckImageCount(count);
        return (int)count;
    }

    /// <summary>The data's elements in row-major order; nested data must follow the shape level by level.</summary>
    private static List<JsonElement> Elements(InferInputTensor input, long expected)
    {
        var data = input.Data;
        if (data.ValueKind != JsonValueKind.Array)
            throw InvalidRequestException.BadRequest($"Input '{input.Name}' needs 'data', an array of its elements.");
        var elements = new List<JsonElement>((int)Math.Min(expected, 1 << 20));
        var nested = data.GetArrayLength() > 0 && data[0].ValueKind == JsonValueKind.Array;
        if (nested) CollectNested(input, data, 0, elements);
        else elements.AddRange(data.EnumerateArray());
        if (elements.Count != expected)
            throw InvalidRequestException.BadRequest(
                $"Input '{input.Name}' has {elements.Count} elements in 'data'; shape {Format(input.Shape!)} needs {expected}.");
        return elements;
    }

    private static void CollectNested(InferInputTensor input, JsonElement level, int depth, List<JsonElement> into)
    {
        var shape = input.Shape!;
        if (level.ValueKind != JsonValueKind.Array || depth >= shape.Count || level.GetArrayLength() != shape[depth])
            throw InvalidRequestException.BadRequest(
                $"Input '{input.Name}' has nested 'data' that does not follow its shape {Format(shape)} at depth {depth}; send it nested exactly as the shape or flat.");
        if (depth == shape.Count - 1)
        {
            into.AddRange(level.EnumerateArray());
            return;
        }
        foreach (var child in level.EnumerateArray()) CollectNested(input, child, depth + 1, into);
    }

    private static float ToFinite(string input, int index, JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var value) && float.IsFinite((float)value))
            return (float)value;
        var nonFinite = element.ValueKind == JsonValueKind.Number
            || (element.ValueKind == JsonValueKind.String && element.GetString() is { } text
                && (text.Equals("NaN", StringComparison.OrdinalIgnoreCase) || text.TrimStart('+', '-').Equals("Infinity", StringComparison.OrdinalIgnoreCase)));
        throw InvalidRequestException.BadRequest(nonFinite
            ? $"Input '{input}' element {index} is {element.GetRawText()}: NaN and infinite values (or values beyond FP32's range) are refused."
            : $"Input '{input}' element {index} is not a number.");
    }

    private static InferenceOptions ReadOptions(Dictionary<string, JsonElement>? parameters)
    {
        if (parameters is null) return InferenceOptions.Default;
        // Read as sent, then given the meanings every front end shares.
        var options = InferenceOptions.Default;
        foreach (var (key, value) in parameters)
        {
            options = key switch
            {
                OperatingPoint => options with
                {
                    OperatingPoint = value.ValueKind == JsonValueKind.String ? value.GetString() : throw ParameterType(key, "a string"),
                },
                MaxExit => options with
                {
                    MaxExit = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var maxExit) ? maxExit : throw ParameterType(key, "an integer"),
                },
                FullDepth => options with { FullDepth = Boolean(key, value) },
                Ensemble => options with { Ensemble = Boolean(key, value) },
                Degrade => options with { AllowDegradation = Boolean(key, value) },
                // The protocol lets clients send parameters a server does not use.
                _ => options,
            };
        }
        return RequestOptions.Create(options.OperatingPoint, options.MaxExit, options.FullDepth, options.Ensemble, degrade: options.AllowDegradation).Inference;
    }

    private static bool Boolean(string key, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw ParameterType(key, "a boolean"),
    };

    private static InvalidRequestException ParameterType(string key, string kind) =>
        InvalidRequestException.BadRequest($"Parameter '{key}' must be {kind}.");

    /// <summary>The outputs to send as binary data: those asking for <c>binary_data</c>, or all under <c>binary_data_output</c>.</summary>
    private static IReadOnlySet<string> BinaryOutputs(InferRequest request, IReadOnlyList<string> outputs)
    {
        if (request.Parameters?.TryGetValue(BinaryTensorData.AllOutputsParameter, out var all) == true && Boolean(BinaryTensorData.AllOutputsParameter, all))
            return outputs.ToHashSet();
        var binary = new HashSet<string>();
        foreach (var output in request.Outputs ?? [])
        {
            if (output.Parameters?.TryGetValue(BinaryTensorData.OutputParameter, out var flag) == true && Boolean(BinaryTensorData.OutputParameter, flag))
                binary.Add(output.Name);
        }
        return binary;
    }

    private static IReadOnlyList<string> ReadOutputs(IReadOnlyList<InferRequestedOutput>? requested) =>
        RequestedOutputs((requested ?? []).Select(o => o.Name),
            name => InvalidRequestException.BadRequest($"Unknown output '{name}'; this model answers with {string.Join(", ", Outputs)}."));

    /// <summary>The protocol's answer: one tensor per wanted output, flat in row-major order.</summary>
    /// <summary>
    /// The protocol's answer: one tensor per wanted output, flat in row-major order, and the binary part of the outputs
    /// asked for as binary data, in the order of the outputs (empty when none was).
    /// </summary>
    public static (InferResponse Response, IReadOnlyList<byte[]> Binary) Answer(InferRequest request, LoadedModel model, IReadOnlyList<Classification> results, InferenceInput input)
    {
        var binary = new List<byte[]>();
        InferOutputTensor Output(string name)
        {
            var integers = DatatypeOf(name) == InferenceProtocol.Int64;
            object values = integers ? IntegerValues(name, results) : FloatValues(name, results);
            var tensor = new InferOutputTensor { Name = name, Datatype = DatatypeOf(name), Shape = ShapeOf(name, results.Count, model.Manifest.Labels.Count), Data = values };
            if (!input.BinaryOutputs.Contains(name)) return tensor;
            var bytes = integers ? BinaryTensorData.LittleEndian((long[])values) : BinaryTensorData.LittleEndian((float[])values);
            binary.Add(bytes);
            return tensor with { Data = null, Parameters = new() { [BinaryTensorData.SizeParameter] = bytes.Length } };
        }
        var point = results.Count > 0 && results[0].Plan.Mode == ExitMode.EarlyExit ? results[0].Plan.OperatingPoint : null;
        var response = new InferResponse
        {
            ModelName = model.Name,
            ModelVersion = model.Version,
            Id = request.Id,
            // Which point served the answers, and whether overload moved them to it (graceful degradation).
            Parameters = point is null ? null : new() { [OperatingPoint] = point, [Degraded] = results[0].Degraded },
            Outputs = input.Outputs.Select(Output).ToList(),
        };
        return (response, binary);
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType is { } type
        && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static string Format(IReadOnlyList<long> shape) => $"[{string.Join(", ", shape)}]";
}
