using Google.Protobuf;
using ScanService.Api.Classifier;
using ScanService.Api.Grpc;
using ScanService.Protocols.OpenInference;
using ScanService.Api.Serving;
using static ScanService.Api.OpenInference.InferenceProtocol;
using ScanService.Core.Bundle;

namespace ScanService.Api.OpenInference.Grpc;

/// <summary>
/// The one input tensor of a ModelInfer request: FP32 [N,C,H,W] already normalised as the manifest says, or
/// BYTES [N] (or [N,1]) of encoded images, each in typed contents or in raw_input_contents.
/// </summary>
internal sealed class InferInput
{
    private InferInput(float[]? pixels, IReadOnlyList<EncodedImage>? images, int count)
    {
        Pixels = pixels;
        Images = images;
        Count = count;
    }

    /// <summary>N×C×H×W values of an FP32 input; null for BYTES.</summary>
    public float[]? Pixels { get; }
    /// <summary>Encoded images of a BYTES input; null for FP32.</summary>
    public IReadOnlyList<EncodedImage>? Images { get; }
    public int Count { get; }

    public static InferInput Read(ModelInferRequest request, InputSpec spec, ServingLimits limits)
    {
        if (request.Inputs.Count != 1)
            throw GrpcStatusMapping.InvalidArgument($"send exactly one input tensor (FP32 [N,{spec.Channels},{spec.Height},{spec.Width}] or BYTES [N]); got {request.Inputs.Count}");
        var tensor = request.Inputs[0];
        ByteString? raw = null;
        if (request.RawInputContents.Count > 0)
        {
            if (request.RawInputContents.Count != 1)
                throw GrpcStatusMapping.InvalidArgument($"raw_input_contents has {request.RawInputContents.Count} entries for 1 input");
            if (tensor.Contents is { } typed && HasElements(typed))
                throw GrpcStatusMapping.InvalidArgument($"input '{tensor.Name}' has both contents and raw_input_contents; send one");
            raw = request.RawInputContents[0];
        }
        return tensor.Datatype switch
        {
            Fp32 => ReadFp32(tensor, raw, spec, limits),
            Bytes => ReadBytes(tensor, raw, limits),
            _ => throw GrpcStatusMapping.InvalidArgument(
                $"input '{tensor.Name}' has datatype '{tensor.Datatype}'; send FP32 [N,{spec.Channels},{spec.Height},{spec.Width}] or BYTES [N] of encoded images"),
        };
    }

    private static InferInput ReadFp32(ModelInferRequest.Types.InferInputTensor tensor, ByteString? raw, InputSpec spec, ServingLimits limits)
    {
        var shape = tensor.Shape;
        if (shape.Count != 4 || shape[0] < 0 || shape[1] != spec.Channels || shape[2] != spec.Height || shape[3] != spec.Width)
            throw GrpcStatusMapping.InvalidArgument(
                $"FP32 input '{tensor.Name}' must have shape [N,{spec.Channels},{spec.Height},{spec.Width}]; got {Format(shape)}");
        limits.CheckImageCount(shape[0]);
        if (shape[0] > Array.MaxLength / spec.PixelsPerSample)
            throw GrpcStatusMapping.InvalidArgument($"FP32 input '{tensor.Name}' of shape {Format(shape)} is too large");
        var expected = (int)shape[0] * spec.PixelsPerSample;
        float[] pixels;
        if (raw is not null)
        {
            pixels = BinaryTensorData.Floats(raw.Span, expected, problem => GrpcStatusMapping.InvalidArgument($"raw FP32 input '{tensor.Name}' of shape {Format(shape)} {problem}"));
        }
        else
        {
            var values = tensor.Contents?.Fp32Contents;
            if (values is null || values.Count != expected)
                throw GrpcStatusMapping.InvalidArgument($"FP32 input '{tensor.Name}' of shape {Format(shape)} needs {expected} fp32_contents; got {values?.Count ?? 0}");
            pixels = new float[expected];
            values.CopyTo(pixels, 0);
        }
        // As on the REST route: NaN or an infinity would run through the network and come back as a NaN confidence.
        var nonFinite = Array.FindIndex(pixels, v => !float.IsFinite(v));
        if (nonFinite >= 0)
            throw GrpcStatusMapping.InvalidArgument($"FP32 input '{tensor.Name}' element {nonFinite} is {pixels[nonFinite]}: NaN and infinite values are refused");
        return new InferInput(pixels, null, (int)shape[0]);
    }

    private static InferInput ReadBytes(ModelInferRequest.Types.InferInputTensor tensor, ByteString? raw, ServingLimits limits)
    {
        var shape = tensor.Shape;
        if (shape.Count is < 1 or > 2 || shape[0] < 0 || (shape.Count == 2 && shape[1] != 1) || shape[0] > Array.MaxLength)
            throw GrpcStatusMapping.InvalidArgument($"BYTES input '{tensor.Name}' must have shape [N] or [N,1], one encoded image per element; got {Format(shape)}");
        limits.CheckImageCount(shape[0]);
        var count = (int)shape[0];
        var elements = raw is not null
            ? BinaryTensorData.Elements(raw.Memory, count, problem => GrpcStatusMapping.InvalidArgument($"raw BYTES input '{tensor.Name}' {problem}"))
            : ReadBytesContents(tensor, count);
        for (var i = 0; i < elements.Count; i++) limits.CheckImageBytes(elements[i].Length, i);
        // Named so that an image that cannot be decoded is reported by its element.
        var images = elements.Select((data, i) => new EncodedImage(data, $"input '{tensor.Name}' element {i}")).ToList();
        return new InferInput(null, images, count);
    }

    private static List<ReadOnlyMemory<byte>> ReadBytesContents(ModelInferRequest.Types.InferInputTensor tensor, int count)
    {
        var elements = tensor.Contents?.BytesContents;
        if (elements is null || elements.Count != count)
            throw GrpcStatusMapping.InvalidArgument($"BYTES input '{tensor.Name}' of {count} elements has {elements?.Count ?? 0} bytes_contents");
        return elements.Select(e => e.Memory).ToList();
    }

    private static bool HasElements(InferTensorContents c) =>
        c.BoolContents.Count + c.IntContents.Count + c.Int64Contents.Count + c.UintContents.Count + c.Uint64Contents.Count
        + c.Fp32Contents.Count + c.Fp64Contents.Count + c.BytesContents.Count > 0;

    private static string Format(IEnumerable<long> shape) => $"[{string.Join(',', shape)}]";
}
