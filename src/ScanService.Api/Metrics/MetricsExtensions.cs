namespace ScanService.Api.Metrics;

public static class MetricsExtensions
{
    public static IHostApplicationBuilder AddScanMetrics(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapScanMetrics(this IEndpointRouteBuilder app) => app;
}
