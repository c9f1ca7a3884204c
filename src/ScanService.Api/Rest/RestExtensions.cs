namespace ScanService.Api.Rest;

public static class RestExtensions
{
    public static IHostApplicationBuilder AddScanRest(this IHostApplicationBuilder builder) => builder;

    public static WebApplication UseScanRest(this WebApplication app) => app;

    public static IEndpointRouteBuilder MapScanRest(this IEndpointRouteBuilder app) => app;
}
