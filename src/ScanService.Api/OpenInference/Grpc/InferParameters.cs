using Google.Protobuf.Collections;
using ScanService.Api.Grpc;
using ScanService.Protocols.OpenInference;
using ScanService.Api.Serving;
using static ScanService.Api.OpenInference.InferenceProtocol;
using ScanService.Core.Inference;

namespace ScanService.Api.OpenInference.Grpc;

/// <summary>
/// The early-exit options a ModelInfer request carries in its parameters: operating_point (string), max_exit
/// (int64), full_depth, ensemble and degrade (bool). Other parameters are left to the clients that send them.
/// </summary>
internal static class InferParameters
{
    public static InferenceOptions ToInferenceOptions(MapField<string, InferParameter> parameters) =>
        RequestOptions.Create(
            parameters.TryGetValue(OperatingPoint, out var point) ? String(OperatingPoint, point) : null,
            parameters.TryGetValue(MaxExit, out var maxExit) ? Int32(MaxExit, maxExit) : null,
            parameters.TryGetValue(FullDepth, out var fullDepth) && Bool(FullDepth, fullDepth),
            parameters.TryGetValue(Ensemble, out var ensemble) && Bool(Ensemble, ensemble),
            degrade: parameters.TryGetValue(Degrade, out var degrade) ? Bool(Degrade, degrade) : null).Inference;

    private static string String(string name, InferParameter p) =>
        p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.StringParam ? p.StringParam : throw WrongKind(name, "string_param");

    private static int Int32(string name, InferParameter p)
    {
        if (p.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.Int64Param) throw WrongKind(name, "int64_param");
        // Out-of-range values are the engine's to refuse, with the model's actual range in the message.
        return (int)Math.Clamp(p.Int64Param, int.MinValue, int.MaxValue);
    }

    private static bool Bool(string name, InferParameter p) =>
        p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.BoolParam ? p.BoolParam : throw WrongKind(name, "bool_param");

    private static Exception WrongKind(string name, string kind) => GrpcStatusMapping.InvalidArgument($"parameter '{name}' must be a {kind}");
}
