using System.ComponentModel.DataAnnotations;

namespace ScanService.Api.Grpc;

/// <summary>Configuration section "Grpc".</summary>
public sealed class ScanGrpcOptions
{
    public const string Section = "Grpc";

    /// <summary>
    /// Items one ClassifyStream call may have read but not yet answered. The server stops reading the request
    /// stream at this bound, so a client that sends faster than the model answers is slowed by HTTP/2 flow
    /// control instead of filling the server's memory.
    /// </summary>
    [Range(1, 4096)]
    public int MaxStreamItemsInFlight { get; set; } = 32;
}
