namespace ScanService.Api.Serving;

/// <summary>A request over one of the <see cref="ServingLimits"/>: 413 over REST, RESOURCE_EXHAUSTED over gRPC.</summary>
public sealed class RequestTooLargeException(string message) : Exception(message);
