namespace ScanService.Core.Batching;

/// <summary>
/// The batcher already holds as many samples as it may: the request is refused at once rather than left to wait
/// without end (HTTP 429, gRPC RESOURCE_EXHAUSTED). The client should retry later or elsewhere.
/// </summary>
public sealed class QueueFullException(int capacity)
    : Exception($"The service is at capacity ({capacity} samples queued or being classified); try again shortly.")
{
    public int Capacity => capacity;
}
