using ScanService.Api.Degradation;
using ScanService.Core.Bundle;

namespace ScanService.Api.Tests.Degradation;

/// <summary>Manifests with operating points made up for the controller's tests: the committed bundle's, its points replaced.</summary>
internal static class DegradationPoints
{
    private static readonly Lazy<ModelManifest> Committed = new(() =>
        JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(Path.Combine(RepositoryPaths.DefaultBundle, ModelManifest.FileName)), ModelManifest.JsonOptions)!);

    public static OperatingPoint Point(string name, double accuracy, double cost) => new()
    {
        Name = name,
        Thresholds = [0.9f, 0.9f, 0.9f, 0f],
        ValidationAccuracy = accuracy,
        RelativeCost = cost,
    };

    /// <summary>Named points fast, balanced (the default) and accurate, and a front of the given (accuracy, cost) pairs.</summary>
    public static ModelManifest Manifest(params (double Accuracy, double Cost)[] front) => Committed.Value with
    {
        OperatingPoints = [Point("fast", 0.90, 0.30), Point("balanced", 0.94, 0.50), Point("accurate", 0.95, 1.00)],
        DefaultOperatingPoint = "balanced",
        ParetoFront = front.Select((p, i) => Point(ModelManifest.FrontPointName(i), p.Accuracy, p.Cost)).ToList(),
    };

    public static DegradationController Controller(ModelManifest manifest, Action<DegradationOptions>? configure = null)
    {
        var options = new DegradationOptions { Enabled = true, ObjectiveMilliseconds = 100, RecoverAfterMilliseconds = 1000 };
        configure?.Invoke(options);
        var controller = new DegradationController(Microsoft.Extensions.Options.Options.Create(options));
        controller.Use(null, manifest);
        return controller;
    }

    /// <summary>A Stopwatch timestamp <paramref name="milliseconds"/> after 0.</summary>
    public static long At(double milliseconds) => (long)(milliseconds * System.Diagnostics.Stopwatch.Frequency / 1000.0);
}
