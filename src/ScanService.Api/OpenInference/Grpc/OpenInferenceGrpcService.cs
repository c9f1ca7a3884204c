using Google.Protobuf;
using Grpc.Core;
using ScanService.Api.Classifier;
using Microsoft.Extensions.Options;
using ScanService.Api.ModelLoading;
using ScanService.Api.Grpc;
using ScanService.Protocols.OpenInference;
using ScanService.Api.Serving;
using static ScanService.Api.OpenInference.InferenceProtocol;

namespace ScanService.Api.OpenInference.Grpc;

/// <summary>
/// The Open Inference Protocol's inference.GRPCInferenceService over the early-exit engine. ModelInfer takes
/// FP32 [N,C,H,W] (normalised as the manifest says) or BYTES [N] of encoded images and answers probabilities
/// FP32 [N,classes], class_index INT64 [N], exit_index INT64 [N] (the 1-based exit that answered) and confidence
/// FP32 [N]: the same inputs, parameters and outputs as the protocol's REST routes.
/// </summary>
internal sealed class OpenInferenceGrpcService(ModelSlot host, ImageClassifier classifier, IOptions<ServingLimits> limits) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = host.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ModelReadyResponse { Ready = host.Current is { } model && Serves(model, request.Name, request.Version) });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = ServerName, Version = ServerVersion });

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var model = RequireServed(request.Name, request.Version);
        var response = new ModelMetadataResponse { Name = model.Name, Versions = { model.Version }, Platform = Platform };
        response.Inputs.AddRange(InputsOf(model).Select(Tensor));
        response.Outputs.AddRange(OutputsOf(model).Select(Tensor));
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
        {
            // Which point served the answers, and whether overload moved them to it (graceful degradation).
            response.Parameters[OperatingPoint] = new InferParameter { StringParam = point };
            response.Parameters[Degraded] = new InferParameter { BoolParam = answers[0].Degraded };
        }
        // Answer in the representation the client chose for its input.
        var raw = request.RawInputContents.Count > 0;
        foreach (var name in outputs)
            AddOutput(response, name, answers, model.Manifest.Labels.Count, raw);
        return response;
    }

    private LoadedModel RequireServed(string name, string version)
    {
        var model = classifier.RequireModel();
        return Serves(model, name, version) ? model : throw GrpcStatusMapping.NotFound(NotServed(model, name, version));
    }

    private static IReadOnlyList<string> RequestedOutputs(ModelInferRequest request) =>
        InferenceProtocol.RequestedOutputs(request.Outputs.Select(o => o.Name),
            name => GrpcStatusMapping.InvalidArgument($"Unknown output '{name}'; this model answers with {string.Join(", ", Outputs)}."));

    private static void AddOutput(ModelInferResponse response, string name, Classification[] answers, int classes, bool raw)
    {
        var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = name, Datatype = DatatypeOf(name) };
        tensor.Shape.AddRange(ShapeOf(name, answers.Length, classes));
        if (tensor.Datatype == InferenceProtocol.Int64)
        {
            var values = IntegerValues(name, answers);
            if (raw) response.RawOutputContents.Add(LittleEndian(values));
            else tensor.Contents = new InferTensorContents { Int64Contents = { values } };
        }
        else
        {
            var values = FloatValues(name, answers);
            if (raw) response.RawOutputContents.Add(LittleEndian(values));
            else tensor.Contents = new InferTensorContents { Fp32Contents = { values } };
        }
        response.Outputs.Add(tensor);
    }

    // The arrays are fresh and never written again, so the messages may wrap them without a copy.
    private static ByteString LittleEndian(float[] values) => UnsafeByteOperations.UnsafeWrap(BinaryTensorData.LittleEndian(values));

    private static ByteString LittleEndian(long[] values) => UnsafeByteOperations.UnsafeWrap(BinaryTensorData.LittleEndian(values));

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(TensorDescription t) =>
        new() { Name = t.Name, Datatype = t.Datatype, Shape = { t.Shape } };
}
