using Microsoft.Extensions.Diagnostics.HealthChecks;
using ScanService.Api.ModelLoading;

namespace ScanService.Api.Grpc;

/// <summary>Healthy once a model bundle has loaded: what grpc.health.v1 reports as SERVING.</summary>
internal sealed class ModelReadinessHealthCheck(ModelSlot host) : IHealthCheck
{
    public const string Tag = "model-ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.IsReady
            ? HealthCheckResult.Healthy($"model {host.Current?.Name} {host.Current?.Version} is loaded")
            : HealthCheckResult.Unhealthy(host.LoadError is null ? "the model is loading" : $"no model is loaded: {host.LoadError}"));
}
