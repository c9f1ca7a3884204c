using System.Globalization;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;

namespace ScanService.Core.Calibration;

/// <summary>
/// Chooses each named operating point's thresholds again for the machine that serves the bundle: times every graph
/// there (<see cref="GraphTimes"/>), then, from the validation records the bundle carries, finds for each point the
/// thresholds of least expected measured time that are at least as accurate on validation as the point's own
/// (<see cref="ThresholdCosts.Cheapest"/>). The threshold search of training minimises multiply-adds; on a machine
/// where the heads run slower per multiply-add than the backbone, the fastest thresholds are others.
/// </summary>
public static class Calibrator
{
    /// <summary>The validation records of <paramref name="bundle"/>, or an error that says how to get them.</summary>
    public static ValidationRecords RecordsOf(ModelBundle bundle)
    {
        var file = bundle.Manifest.ValidationRecords
            ?? throw new InvalidOperationException($"the bundle in '{bundle.Directory}' carries no validation records (export it again with a current scan-train)");
        var records = ValidationRecords.Load(Path.Combine(bundle.Directory, file));
        if (records.ExitCount != bundle.Manifest.Exits.Count)
            throw new InvalidDataException($"{file} records {records.ExitCount} exits; the manifest has {bundle.Manifest.Exits.Count}");
        return records;
    }

    /// <summary>Measures <paramref name="engine"/>'s graphs and returns the manifest with calibrated thresholds and both costs recorded.</summary>
    public static ModelManifest Calibrate(ModelManifest manifest, EarlyExitEngine engine, ValidationRecords records, int batchSize, TimeSpan budget, string machine)
    {
        var pixels = new float[batchSize * engine.SampleSize];
        var random = new Random(2019);
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        var times = GraphTimes.Measure(engine, pixels, batchSize, budget);
        return Apply(manifest, times, records, engine.Provider.Name, machine);
    }

    /// <summary>The manifest with each named point's thresholds chosen against <paramref name="times"/> (the tests give made-up times).</summary>
    public static ModelManifest Apply(ModelManifest manifest, GraphTimes times, ValidationRecords records, string provider, string machine)
    {
        var stageMacs = manifest.Stages.Select(s => (double)s.Graph.MultiplyAdds).ToArray();
        var headMacs = manifest.Exits.Select(e => (double)((e.Attention?.MultiplyAdds ?? 0) + e.Classifier.MultiplyAdds)).ToArray();
        var byTime = new ThresholdCosts(records, times.StagePerSample, times.HeadPerSample);
        var byMacs = new ThresholdCosts(records, stageMacs, headMacs);
        var monolithicMs = times.MonolithicPerSample;
        double fullMacs = manifest.FullDepthMultiplyAdds;

        var calibrated = new List<CalibratedPoint>();
        var points = new List<OperatingPoint>();
        foreach (var point in manifest.OperatingPoints)
        {
            // A point calibrated before starts from the thresholds training chose, not from the last calibration's.
            var original = manifest.Calibration?.Points.FirstOrDefault(p => p.Name == point.Name)?.MultiplyAddThresholds ?? point.Thresholds;
            var start = original.ToArray();
            var chosen = byTime.Cheapest(start);
            var before = byTime.Replay(start);
            var after = byTime.Replay(chosen);
            var macs = byMacs.Replay(chosen);
            calibrated.Add(new CalibratedPoint(point.Name, original, chosen, after.Accuracy, before.MeanCost / monolithicMs, after.MeanCost / monolithicMs,
                byMacs.Replay(start).MeanCost / fullMacs, macs.MeanCost / fullMacs));
            points.Add(point with { Thresholds = chosen, RelativeTime = after.MeanCost / monolithicMs });
        }
        return manifest with
        {
            OperatingPoints = points,
            Calibration = new CalibrationRecord
            {
                Machine = machine,
                ExecutionProvider = provider,
                BatchSize = times.BatchSize,
                MeasuredAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                MonolithicMs = monolithicMs,
                StageMs = times.StagePerSample,
                HeadMs = times.HeadPerSample,
                Points = calibrated,
            },
        };
    }
}
