using System.ComponentModel.DataAnnotations;

namespace ScanService.Api.Tracing;

/// <summary>
/// Configuration section "Tracing": OpenTelemetry traces (and, if asked, metrics) sent over OTLP. Off by default;
/// the endpoint, headers and protocol also follow the standard OTEL_EXPORTER_OTLP_* environment variables.
/// </summary>
public sealed class TracingOptions
{
    public const string Section = "Tracing";

    /// <summary>Record and export traces: a span per request (ASP.NET Core, gRPC), with decoding, queue wait and each stage and head under it.</summary>
    public bool Enabled { get; set; }

    /// <summary>The OTLP collector, e.g. http://otel-collector:4317 (gRPC) or :4318 (HTTP); OTEL_EXPORTER_OTLP_ENDPOINT when empty.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Share of requests traced (parent-based: a request whose caller sampled it is traced).</summary>
    [Range(0.0, 1.0)]
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>Also push the metrics over OTLP (Prometheus scraping of /metrics goes on either way).</summary>
    public bool ExportMetrics { get; set; }
}
