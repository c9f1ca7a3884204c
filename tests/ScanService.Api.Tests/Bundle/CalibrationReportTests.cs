using System.Text.Json.Nodes;
using ScanService.Core.Bundle;
using ScanService.Core.Calibration;

namespace ScanService.Api.Tests.Bundle;

/// <summary>A calibrated bundle: the service answers with the calibrated thresholds and reports both costs and where they were measured.</summary>
public sealed class CalibrationReportTests : IDisposable
{
    private readonly string _bundle = Path.Combine(Path.GetTempPath(), "scan-calibrated-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_bundle, recursive: true);

    [Fact]
    public async Task The_model_summary_reports_measured_times_per_exit_and_point_with_the_machine_and_provider()
    {
        Directory.CreateDirectory(_bundle);
        foreach (var file in Directory.GetFiles(RepositoryPaths.DefaultBundle)) File.Copy(file, Path.Combine(_bundle, Path.GetFileName(file)));
        var bundle = ModelBundle.Load(_bundle);
        // Heads twice as dear per sample as their stages: made-up times, so the test does not depend on this machine's.
        var times = new GraphTimes(1, 10, [1, 1.5, 2, 2.5], [2, 3, 4, 0.1]);
        var calibrated = Calibrator.Apply(bundle.Manifest, times, Calibrator.RecordsOf(bundle), "CPUExecutionProvider", "made-up machine");
        File.WriteAllText(Path.Combine(_bundle, ModelManifest.FileName), calibrated.ToJson());

        using var factory = new ScanApiFactory().With("Model:BundlePath", _bundle);
        using var client = factory.CreateClient();
        var summary = (await client.GetFromJsonAsync<JsonObject>("/v1/model"))!;

        Assert.Equal("made-up machine", (string?)summary["calibration"]!["machine"]);
        Assert.Equal(10, (double)summary["calibration"]!["monolithicMs"]!);
        // Exit 2: stages 1 and 2 and heads 1 and 2, over the monolithic graph: (1 + 1.5 + 2 + 3) / 10.
        Assert.Equal(0.75, (double)summary["exits"]![1]!["relativeTime"]!, 9);
        foreach (var point in calibrated.OperatingPoints)
        {
            var reported = summary["operatingPoints"]!.AsArray().Single(p => (string?)p!["name"] == point.Name)!;
            Assert.Equal(point.RelativeTime!.Value, (double)reported["relativeTime"]!, 9);
            Assert.Equal(point.Thresholds, reported["thresholds"]!.AsArray().Select(t => (float)t!));
        }
        // And it serves them.
        var answer = await client.ClassifyAsync(Rest.FashionMnistImages.Png(0), "?operatingPoint=balanced");
        Assert.Equal("balanced", answer.OperatingPoint);
    }
}
