using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ScanService.Core.Diagnostics;

namespace ScanService.Api.Tracing;

public static class TracingExtensions
{
    /// <summary>Traces over OTLP when <c>Tracing:Enabled</c>; nothing at all otherwise (no listener, no cost on the serving path).</summary>
    public static IHostApplicationBuilder AddScanTracing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TracingOptions>().BindConfiguration(TracingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(TracingOptions.Section).Get<TracingOptions>() ?? new TracingOptions();
        if (!options.Enabled) return builder;

        void Endpoint(OtlpExporterOptions otlp)
        {
            if (!string.IsNullOrEmpty(options.OtlpEndpoint)) otlp.Endpoint = new Uri(options.OtlpEndpoint);
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SampleRatio)))
                .AddSource(ScanActivities.SourceName)
                // Health probes and scrapes are not requests worth a trace.
                .AddAspNetCoreInstrumentation(asp => asp.Filter = context => Traced(context.Request.Path))
                .AddOtlpExporter(Endpoint));
        if (options.ExportMetrics) telemetry.WithMetrics(metrics => metrics.AddOtlpExporter(Endpoint));
        return builder;
    }

    /// <summary>Requests worth a trace: not health probes, scrapes, Swagger or gRPC health and reflection.</summary>
    internal static bool Traced(PathString path) =>
        !path.StartsWithSegments("/v2/health") && !path.StartsWithSegments("/metrics") && !path.StartsWithSegments("/swagger")
        && !path.StartsWithSegments("/grpc.health.v1.Health") && !path.StartsWithSegments("/grpc.reflection.v1alpha.ServerReflection")
        && !path.StartsWithSegments("/grpc.reflection.v1.ServerReflection");
}
