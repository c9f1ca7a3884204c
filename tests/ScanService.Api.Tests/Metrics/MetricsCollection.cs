namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// The metrics tests count exactly, and OpenTelemetry listens to meters by name across the whole process: an app
/// that another test class runs at the same time would add its answers to these counts. This collection runs
/// alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}
