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

    [Fact]
    public async Task Calibration_on_load_times_the_graphs_here_serves_the_calibrated_thresholds_and_leaves_the_bundle_as_it_was()
    {
        Directory.CreateDirectory(_bundle);
        foreach (var file in Directory.GetFiles(RepositoryPaths.DefaultBundle)) File.Copy(file, Path.Combine(_bundle, Path.GetFileName(file)));
        var manifestPath = Path.Combine(_bundle, ModelManifest.FileName);
        var before = File.ReadAllBytes(manifestPath);
        var own = ModelBundle.Load(_bundle).Manifest;
        Assert.Null(own.Calibration);

        using var factory = new ScanApiFactory()
            .With("Model:BundlePath", _bundle)
            .With("Model:CalibrateOnLoad", "true")
            .With("Model:CalibrationSeconds", "0.3")
            .With("Model:CalibrationBatchSize", "4");
        using var client = factory.CreateClient();
        var summary = (await client.GetFromJsonAsync<JsonObject>("/v1/model"))!;

        var calibration = summary["calibration"]!;
        Assert.Equal("CPUExecutionProvider", (string?)calibration["executionProvider"]);
        Assert.Equal(4, (int)calibration["batchSize"]!);
        Assert.Contains(Environment.ProcessorCount + " cores", (string?)calibration["machine"]);
        Assert.All(calibration["stageMs"]!.AsArray(), t => Assert.True((double)t! > 0));
        foreach (var point in own.OperatingPoints)
        {
            var reported = summary["operatingPoints"]!.AsArray().Single(p => (string?)p!["name"] == point.Name)!;
            var record = calibration["points"]!.AsArray().Single(p => (string?)p!["name"] == point.Name)!;
            // Served thresholds are the calibrated ones, chosen no slower (in measured time) than training's.
            Assert.Equal(record["thresholds"]!.AsArray().Select(t => (float)t!), reported["thresholds"]!.AsArray().Select(t => (float)t!));
            Assert.Equal(point.Thresholds, record["multiplyAddThresholds"]!.AsArray().Select(t => (float)t!));
            Assert.True((double)record["relativeTime"]! <= (double)record["multiplyAddRelativeTime"]! + 1e-9);
            Assert.True((double)reported["relativeTime"]! > 0);
        }
        var answer = await client.ClassifyAsync(Rest.FashionMnistImages.Png(0), "?operatingPoint=balanced");
        Assert.Equal("balanced", answer.OperatingPoint);
        // Nothing the user gave was changed.
        Assert.Equal(before, File.ReadAllBytes(manifestPath));
    }

    [Fact]
    public async Task A_bundle_without_validation_records_is_served_with_its_own_thresholds_when_calibration_on_load_is_on()
    {
        Directory.CreateDirectory(_bundle);
        foreach (var file in Directory.GetFiles(RepositoryPaths.DefaultBundle)) File.Copy(file, Path.Combine(_bundle, Path.GetFileName(file)));
        var bundle = ModelBundle.Load(_bundle);
        var records = bundle.Manifest.ValidationRecords!;
        var stripped = bundle.Manifest with
        {
            ValidationRecords = null,
            Files = bundle.Manifest.Files.Where(f => f.Key != records).ToDictionary(f => f.Key, f => f.Value),
        };
        File.Delete(Path.Combine(_bundle, records));
        File.WriteAllText(Path.Combine(_bundle, ModelManifest.FileName), stripped.ToJson());

        using var factory = new ScanApiFactory().With("Model:BundlePath", _bundle).With("Model:CalibrateOnLoad", "true").With("Model:CalibrationSeconds", "0.2");
        using var client = factory.CreateClient();
        var summary = (await client.GetFromJsonAsync<JsonObject>("/v1/model"))!;

        Assert.Null(summary["calibration"]);
        var balanced = summary["operatingPoints"]!.AsArray().Single(p => (string?)p!["name"] == "balanced")!;
        Assert.Equal(stripped.OperatingPoints.Single(p => p.Name == "balanced").Thresholds, balanced["thresholds"]!.AsArray().Select(t => (float)t!));
        Assert.Equal("balanced", (await client.ClassifyAsync(Rest.FashionMnistImages.Png(1), "?operatingPoint=balanced")).OperatingPoint);
    }
}
