using ScanService.Core.Calibration;

namespace ScanService.Core.Tests.Calibration;

/// <summary>Calibration of the committed bundle on this machine: from its own validation records, never worse than training's thresholds.</summary>
public sealed class CommittedBundleCalibrationTests
{
    [Fact]
    public void Calibrated_thresholds_cost_no_more_measured_time_than_trainings_and_are_at_least_as_accurate_on_validation()
    {
        var bundle = CommittedBundle.Load();
        var records = Calibrator.RecordsOf(bundle);
        Assert.Equal(bundle.Manifest.Exits.Count, records.ExitCount);
        Assert.True(records.SampleCount >= 1000, $"{records.SampleCount} validation records");
        using var engine = EarlyExitEngine.Create(bundle, OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu));

        var calibrated = Calibrator.Calibrate(bundle.Manifest, engine, records, batchSize: 8, TimeSpan.FromMilliseconds(300), "test machine");

        var c = calibrated.Calibration!;
        Assert.Equal(engine.Provider.Name, c.ExecutionProvider);
        Assert.All(c.StageMs.Concat(c.HeadMs).Append(c.MonolithicMs), t => Assert.True(t > 0));
        var byTime = new ThresholdCosts(records, c.StageMs, c.HeadMs);
        foreach (var point in bundle.Manifest.OperatingPoints)
        {
            var after = calibrated.FindOperatingPoint(point.Name)!;
            var record = c.Points.Single(p => p.Name == point.Name);
            Assert.Equal(point.Thresholds, record.MultiplyAddThresholds);
            Assert.Equal(after.Thresholds, record.Thresholds);
            Assert.True(record.RelativeTime <= record.MultiplyAddRelativeTime + 1e-12, $"{point.Name}: {record.RelativeTime} > {record.MultiplyAddRelativeTime}");
            Assert.True(byTime.Replay(after.Thresholds.ToArray()).Accuracy >= byTime.Replay(point.Thresholds.ToArray()).Accuracy);
            Assert.Equal(record.RelativeTime, after.RelativeTime);
        }
        // A second calibration starts again from training's thresholds, which the first one kept.
        var again = Calibrator.Apply(calibrated, new GraphTimes(8, 8, [1, 1, 1, 1], [1, 1, 1, 1]), records, "CPUExecutionProvider", "another machine");
        Assert.Equal(bundle.Manifest.OperatingPoints.Select(p => p.Thresholds), again.Calibration!.Points.Select(p => p.MultiplyAddThresholds));
        ModelBundle.Validate(again);
    }
}
