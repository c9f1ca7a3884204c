using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using ScanService.Protocols.OpenInference;
using ScanService.Api.OpenInference.Grpc;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Serving;

namespace ScanService.Api.Grpc;

/// <summary>
/// The gRPC front end: scan.v1.ClassificationService, the Open Inference Protocol's
/// inference.GRPCInferenceService, grpc.health.v1 (SERVING once the model is loaded) and server reflection.
/// gRPC needs HTTP/2; on a cleartext port Kestrel speaks it only on an endpoint whose protocols are Http2
/// alone (an Http1AndHttp2 endpoint without TLS falls back to HTTP/1.1), so serve gRPC from such an endpoint.
/// </summary>
public static class GrpcExtensions
{
    public static IHostApplicationBuilder AddScanGrpc(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ScanGrpcOptions>().BindConfiguration(ScanGrpcOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<InFlightStreamItems>();
        builder.Services.AddGrpc(options =>
        {
            options.Interceptors.Add<StatusMappingInterceptor>();
            options.EnableDetailedErrors = builder.Environment.IsDevelopment();
            // Without this, gRPC maps a catch-all {service}/{method} route for every HTTP method, which turns a wrong
            // method on a two-segment REST path (GET /v1/classify) into 404 instead of 405. Unknown gRPC methods
            // still fail as UNIMPLEMENTED: clients map the HTTP 404 they now get to it.
            options.IgnoreUnknownServices = true;
        });
        builder.Services.AddOptions<GrpcServiceOptions>()
            // The largest message any front end accepts: smaller limits (one image) are checked per message, so that a
            // streamed item over them gets its own error answer instead of ending the call.
            .Configure<IOptions<ServingLimits>>((grpc, limits) => grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, Math.Max(limits.Value.MaxBatchRequestBodyBytes, limits.Value.MaxRequestBodyBytes + ServingLimits.EnvelopeBytes)));

        builder.Services.AddGrpcHealthChecks(options =>
            {
                // Only model readiness decides, whatever other health checks the service registers.
                options.Services.Clear();
                foreach (var service in new[] { "", ClassificationService.Descriptor.FullName, GRPCInferenceService.Descriptor.FullName })
                    options.Services.Map(service, check => check.Tags.Contains(ModelReadinessHealthCheck.Tag));
            })
            .AddCheck<ModelReadinessHealthCheck>("grpc-model-readiness", tags: [ModelReadinessHealthCheck.Tag]);
        builder.Services.AddGrpcReflection();
        return builder;
    }

    public static IEndpointRouteBuilder MapScanGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<ClassificationGrpcService>();
        app.MapGrpcService<OpenInferenceGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }
}
