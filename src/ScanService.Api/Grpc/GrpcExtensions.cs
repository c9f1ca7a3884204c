namespace ScanService.Api.Grpc;

public static class GrpcExtensions
{
    public static IHostApplicationBuilder AddScanGrpc(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapScanGrpc(this IEndpointRouteBuilder app) => app;
}
