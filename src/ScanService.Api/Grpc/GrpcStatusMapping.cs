using Grpc.Core;
using ScanService.Api.Classifier;
using ScanService.Api.Serving;
using ScanService.Core.Batching;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.Grpc;

/// <summary>
/// The one place where what the classifier throws becomes a gRPC status, for failed calls (through
/// <see cref="StatusMappingInterceptor"/>) and for the error answers of streamed items alike.
/// </summary>
internal static class GrpcStatusMapping
{
    /// <summary>
    /// The status for an exception the caller can act on, or null for a fault of the server, which gRPC reports
    /// as UNKNOWN without details (and logs).
    /// </summary>
    /// <remarks>
    /// RESOURCE_EXHAUSTED is for work the service refuses because it is saturated, the dynamic batcher's full
    /// queue (<see cref="QueueFullException"/>), and for requests over a <see cref="ServingLimits"/> limit (where REST
    /// answers 413); gRPC itself answers it for messages over <see cref="ServingLimits.MaxBatchRequestBodyBytes"/>.
    /// </remarks>
    public static Status? ToStatus(Exception exception, DateTime deadline, CancellationToken callCancelled) => exception switch
    {
        RpcException rpc => rpc.Status,
        ModelNotReadyException e => new Status(StatusCode.Unavailable, e.Message),
        QueueFullException e => new Status(StatusCode.ResourceExhausted, e.Message),
        RequestTooLargeException e => new Status(StatusCode.ResourceExhausted, e.Message),
        InvalidInferenceOptionsException e => new Status(StatusCode.InvalidArgument, e.Message),
        ImageDecodeException e => new Status(StatusCode.InvalidArgument, e.Message),
        ImageInBatchException e => new Status(StatusCode.InvalidArgument, e.Message),
        OperationCanceledException when callCancelled.IsCancellationRequested => deadline <= DateTime.UtcNow
            ? new Status(StatusCode.DeadlineExceeded, "the deadline passed before the answer was ready")
            : new Status(StatusCode.Cancelled, "the call was cancelled"),
        _ => null,
    };

    /// <summary>The error answer of one streamed item: the caller's status, or INTERNAL for a fault of the server.</summary>
    public static Status ForItem(Exception exception, CancellationToken callCancelled) =>
        ToStatus(exception, DateTime.MaxValue, callCancelled) ?? new Status(StatusCode.Internal, "the item could not be classified because of a server error");

    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));

    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));
}
