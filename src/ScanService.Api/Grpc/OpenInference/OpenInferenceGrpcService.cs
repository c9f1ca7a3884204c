using System.Buffers.Binary;
using System.Reflection;
using Google.Protobuf;
using Grpc.Core;
using ScanService.Api.Inference;
using Microsoft.Extensions.Options;
using ScanService.Api.ModelLoading;
using ScanService.Api.Serving;

namespace ScanService.Api.Grpc.OpenInference;

/// <summary>
/// The Open Inference Protocol's inference.GRPCInferenceService over the early-exit engine. ModelInfer takes
/// FP32 [N,C,H,W] (normalised as the manifest says) or BYTES [N] of encoded images and answers probabilities
/// FP32 [N,classes], class_index INT64 [N], exit_index INT64 [N] (the 1-based exit that answered) and confidence
/// FP32 [N]: the same inputs, parameters and outputs as the protocol's REST routes.
/// </summary>
internal sealed class OpenInferenceGrpcService(ModelSlot host, ImageClassifier classifier, IOptions<ServingLimits> limits) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public const string Probabilities = "probabilities";
    public const string ClassIndex = "class_index";
    public const string ExitIndex = "exit_index";
    public const string Confidence = "confidence";
    private const string Int64 = "INT64";
    /// <summary>The image input's name in the metadata; requests are told apart by datatype, so any name is accepted.</summary>
    private const string ImageInputName = "image";
    private static readonly string[] AllOutputs = [Probabilities, ClassIndex, ExitIndex, Confidence];

    // Without the source revision that the SDK appends after '+'.
    private static readonly string ServerVersion =
        typeof(OpenInferenceGrpcService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = host.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ModelReadyResponse { Ready = host.Current is { } model && Serves(model, request.Name, request.Version) });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = "scanservice", Version = ServerVersion });

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var model = RequireServed(request.Name, request.Version);
        var input = model.Manifest.Input;
        var response = new ModelMetadataResponse
        {
            Name = model.Name,
            Versions = { model.Version },
            // A chain of ONNX graphs run by ONNX Runtime; the early exit is this server's own.
            Platform = "onnxruntime_onnx",
            Inputs =
            {
                Tensor(model.Manifest.Stages[0].Graph.Input.Name, InferInput.Fp32, -1, input.Channels, input.Height, input.Width),
                Tensor(ImageInputName, InferInput.Bytes, -1),
            },
            Outputs =
            {
                Tensor(Probabilities, InferInput.Fp32, -1, model.Manifest.Labels.Count),
                Tensor(ClassIndex, Int64, -1),
                Tensor(ExitIndex, Int64, -1),
                Tensor(Confidence, InferInput.Fp32, -1),
            },
        };
        return Task.FromResult(response);
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var model = RequireServed(request.ModelName, request.ModelVersion);
        var options = InferParameters.ToInferenceOptions(request.Parameters);
        var outputs = RequestedOutputs(request);
        var input = InferInput.Read(request, model.Manifest.Input, limits.Value);
        var answers = input.Pixels is { } pixels
            ? await classifier.ClassifyTensorAsync(pixels, input.Count, model.Engine.SampleSize, options, context.CancellationToken)
            : await classifier.ClassifyBatchAsync(input.Images!, options, context.CancellationToken);

        var response = new ModelInferResponse { ModelName = model.Name, ModelVersion = model.Version, Id = request.Id };
        if (answers.Length > 0 && answers[0].Plan.OperatingPoint is { } point)
            response.Parameters[InferParameters.OperatingPoint] = new InferParameter { StringParam = point };
        // Answer in the representation the client chose for its input.
        var raw = request.RawInputContents.Count > 0;
        foreach (var name in outputs)
            AddOutput(response, name, answers, model.Manifest.Labels.Count, raw);
        return response;
    }

    private LoadedModel RequireServed(string name, string version)
    {
        var model = classifier.RequireModel();
        return Serves(model, name, version)
            ? model
            : throw GrpcStatusMapping.NotFound($"model '{name}'{(version.Length > 0 ? $" version '{version}'" : "")} is not served here; this server serves '{model.Name}' version '{model.Version}'");
    }

    private static bool Serves(LoadedModel model, string name, string version) =>
        name == model.Name && (version.Length == 0 || version == model.Version);

    private static IReadOnlyList<string> RequestedOutputs(ModelInferRequest request)
    {
        if (request.Outputs.Count == 0) return AllOutputs;
        var names = request.Outputs.Select(o => o.Name).Distinct().ToList();
        var unknown = names.FirstOrDefault(n => !AllOutputs.Contains(n));
        return unknown is null
            ? names
            : throw GrpcStatusMapping.InvalidArgument($"unknown output '{unknown}'; this model has {string.Join(", ", AllOutputs)}");
    }

    private static void AddOutput(ModelInferResponse response, string name, Classification[] answers, int classes, bool raw)
    {
        var n = answers.Length;
        var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = name };
        if (name is Probabilities or Confidence)
        {
            tensor.Datatype = InferInput.Fp32;
            tensor.Shape.Add(n);
            if (name == Probabilities) tensor.Shape.Add(classes);
            var values = name == Probabilities ? answers.SelectMany(a => a.Prediction.Probabilities).ToArray() : answers.Select(a => a.Prediction.Confidence).ToArray();
            if (raw) response.RawOutputContents.Add(LittleEndian(values));
            else tensor.Contents = new InferTensorContents { Fp32Contents = { values } };
        }
        else
        {
            tensor.Datatype = Int64;
            tensor.Shape.Add(n);
            var values = answers.Select(a => (long)(name == ClassIndex ? a.Prediction.ClassIndex : a.Prediction.Exit)).ToArray();
            if (raw) response.RawOutputContents.Add(LittleEndian(values));
            else tensor.Contents = new InferTensorContents { Int64Contents = { values } };
        }
        response.Outputs.Add(tensor);
    }

    // The arrays are fresh and never written again, so the messages may wrap them without a copy.
    private static ByteString LittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static ByteString LittleEndian(long[] values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(string name, string datatype, params long[] shape) =>
        new() { Name = name, Datatype = datatype, Shape = { shape } };
}
