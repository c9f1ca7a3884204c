using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Api.Metrics;

/// <summary>
/// Times each unary call of the classification services (scan.v1 and the Open Inference Protocol's) and labels it
/// with the outcome its status says. It is the outermost interceptor, so it sees the status the client gets.
/// Streams are left out here (their lifetime is not a request's latency): ClassifyStream records each of its items
/// as a request of front end grpc_stream. Health, reflection and the protocol's liveness and readiness calls are left
/// out for the same reason as the REST probes.
/// </summary>
internal sealed class GrpcRequestMetricsInterceptor(ScanMetrics metrics) : Interceptor
{
    private static readonly string ClassificationPrefix = $"/{ClassificationService.Descriptor.FullName}/";
    private static readonly string InferencePrefix = $"/{GRPCInferenceService.Descriptor.FullName}/";
    private static readonly HashSet<string> Probes =
    [
        InferencePrefix + "ServerLive",
        InferencePrefix + "ServerReady",
    ];

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!Measured(context.Method)) return await continuation(request, context);
        var started = Stopwatch.GetTimestamp();
        // Anything but an RpcException reaches the client as UNKNOWN: a fault of the server.
        var outcome = RequestOutcome.ServerError;
        try
        {
            var response = await continuation(request, context);
            outcome = RequestOutcomes.FromGrpcStatus(context.Status.StatusCode);
            return response;
        }
        catch (RpcException e)
        {
            outcome = RequestOutcomes.FromGrpcStatus(e.StatusCode);
            throw;
        }
        finally
        {
            metrics.RecordRequest(FrontEnd.Grpc, outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    internal static bool Measured(string method) =>
        method.StartsWith(ClassificationPrefix, StringComparison.Ordinal)
        || (method.StartsWith(InferencePrefix, StringComparison.Ordinal) && !Probes.Contains(method));
}
