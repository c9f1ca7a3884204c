using ScanService.Api.ModelLoading;
using System.Reflection;
using Grpc.AspNetCore.Server;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using ScanService.Api.Classifier;
using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>
/// Metrics through OpenTelemetry, exported for Prometheus at /metrics: the service's own (<see cref="ScanMetrics"/>),
/// ASP.NET Core's and Kestrel's, and the .NET runtime's built-in System.Runtime meter.
/// </summary>
public static class MetricsExtensions
{
    /// <summary>The .NET runtime's own meter (GC, thread pool, CPU, memory), built into .NET 9 and later.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>The service's name in target_info (service_name), so that dashboards can tell it from other targets.</summary>
    public const string ServiceName = "scanservice";

    private static string ServiceVersion { get; } =
        typeof(MetricsExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IHostApplicationBuilder AddScanMetrics(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<ScanMetrics>();
        services.AddSingleton<IModelObserver>(sp => sp.GetRequiredService<ScanMetrics>());
        services.AddSingleton<ExitDepthObserver>();
        services.AddSingleton<IClassificationObserver>(sp => sp.GetRequiredService<ExitDepthObserver>());
        services.AddSingleton<AgreementSampler>();
        services.AddSingleton<IClassificationObserver>(sp => sp.GetRequiredService<AgreementSampler>());
        services.AddHostedService<AgreementChecker>();
        services.AddSingleton<IInferenceObserver, InferenceMetricsObserver>();
        services.AddSingleton<IServingObserver, ServingMetricsObserver>();

        services.AddTransient<IStartupFilter, RequestMetricsStartupFilter>();
        services.AddSingleton<GrpcRequestMetricsInterceptor>();
        // PostConfigure runs after AddGrpc's own options: this interceptor goes first, outside the one that maps
        // exceptions to statuses, so it sees the status the client gets.
        services.PostConfigure<GrpcServiceOptions>(options =>
        {
            options.Interceptors.Add<GrpcRequestMetricsInterceptor>();
            var registration = options.Interceptors[^1];
            options.Interceptors.RemoveAt(options.Interceptors.Count - 1);
            options.Interceptors.Insert(0, registration);
        });

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: ServiceVersion))
            .WithMetrics(metrics => metrics
            .AddMeter(ScanMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddMeter(RuntimeMeterName)
            .AddPrometheusExporter(options =>
            {
                // Prometheus scrapes every few seconds at most; a cached response would only make a scrape
                // that follows traffic closely miss it.
                options.ScrapeResponseCacheDurationMilliseconds = 0;
            }));
        return builder;
    }

    public static IEndpointRouteBuilder MapScanMetrics(this IEndpointRouteBuilder app)
    {
        // Made now, not at the first answer: the model-info gauge must be there before the first scrape, and its
        // exit-depth histogram is made when the model loads, which happens right after start.
        app.ServiceProvider.GetRequiredService<ScanMetrics>();
        // /metrics on every endpoint, but only the REST one speaks HTTP/1.1, which is what Prometheus scrapes with.
        app.MapPrometheusScrapingEndpoint().DisableHttpMetrics();
        return app;
    }
}
