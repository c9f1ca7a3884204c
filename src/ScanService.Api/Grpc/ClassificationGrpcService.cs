using Grpc.Core;
using Microsoft.Extensions.Options;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Classifier;
using ScanService.Api.Metrics;
using ScanService.Api.Serving;

namespace ScanService.Api.Grpc;

/// <summary>scan.v1.ClassificationService: unary and streaming classification over the early-exit engine.</summary>
internal sealed class ClassificationGrpcService(
    ImageClassifier classifier, IOptions<ServingLimits> limits, InFlightStreamItems inFlight, ScanMetrics metrics, IOptions<ScanGrpcOptions> options,
    ILogger<ClassificationGrpcService> logger)
    : ClassificationService.ClassificationServiceBase
{
    public override async Task<ClassifyResponse> Classify(ClassifyRequest request, ServerCallContext context) =>
        new() { Id = request.Id, Classification = await classifier.ClassifyAsync(request, limits.Value, context.CancellationToken) };

    public override Task ClassifyStream(IAsyncStreamReader<ClassifyRequest> requestStream, IServerStreamWriter<ClassifyStreamResponse> responseStream, ServerCallContext context) =>
        new ClassifyStreamCall(classifier, limits.Value, inFlight, metrics, options.Value.MaxStreamItemsInFlight, logger)
            .RunAsync(requestStream, responseStream, context.CancellationToken);
}
