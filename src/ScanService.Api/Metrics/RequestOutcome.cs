using Grpc.Core;

namespace ScanService.Api.Metrics;

/// <summary>Which front end a request came through: the <c>front_end</c> label.</summary>
public enum FrontEnd
{
    /// <summary>The service's own REST API under /v1.</summary>
    Rest,
    /// <summary>The Open Inference Protocol's REST routes under /v2.</summary>
    V2,
    /// <summary>Unary calls of any gRPC service (scan.v1 and the Open Inference Protocol's).</summary>
    Grpc,
    /// <summary>Items of scan.v1 ClassifyStream calls, each timed from its reading to its answer.</summary>
    GrpcStream,
}

/// <summary>How a request ended: the <c>outcome</c> label.</summary>
public enum RequestOutcome
{
    Ok,
    /// <summary>The caller's fault: a bad image, an unknown option, a wrong route, a cancelled call.</summary>
    ClientError,
    /// <summary>The service's fault.</summary>
    ServerError,
    /// <summary>Refused because the service was saturated (429, RESOURCE_EXHAUSTED).</summary>
    Rejected,
    /// <summary>No model to answer with (503, UNAVAILABLE).</summary>
    Unavailable,
}

/// <summary>Maps HTTP statuses and gRPC status codes onto the few outcomes the request metrics use.</summary>
public static class RequestOutcomes
{
    public static RequestOutcome FromHttpStatus(int status) => status switch
    {
        StatusCodes.Status429TooManyRequests => RequestOutcome.Rejected,
        StatusCodes.Status503ServiceUnavailable => RequestOutcome.Unavailable,
        >= 500 => RequestOutcome.ServerError,
        >= 400 => RequestOutcome.ClientError,
        _ => RequestOutcome.Ok,
    };

    public static RequestOutcome FromGrpcStatus(StatusCode code) => code switch
    {
        StatusCode.OK => RequestOutcome.Ok,
        StatusCode.ResourceExhausted => RequestOutcome.Rejected,
        StatusCode.Unavailable => RequestOutcome.Unavailable,
        StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.FailedPrecondition
            or StatusCode.OutOfRange or StatusCode.Cancelled or StatusCode.PermissionDenied or StatusCode.Unauthenticated
            or StatusCode.Unimplemented => RequestOutcome.ClientError,
        // DEADLINE_EXCEEDED counts against the service: the caller waited as long as it said it would.
        _ => RequestOutcome.ServerError,
    };

    public static string Label(this FrontEnd frontEnd) => frontEnd switch
    {
        FrontEnd.Rest => "rest",
        FrontEnd.V2 => "v2",
        FrontEnd.Grpc => "grpc",
        FrontEnd.GrpcStream => "grpc_stream",
        _ => throw new ArgumentOutOfRangeException(nameof(frontEnd)),
    };

    public static string Label(this RequestOutcome outcome) => outcome switch
    {
        RequestOutcome.Ok => "ok",
        RequestOutcome.ClientError => "client_error",
        RequestOutcome.ServerError => "server_error",
        RequestOutcome.Rejected => "rejected",
        RequestOutcome.Unavailable => "unavailable",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };
}
