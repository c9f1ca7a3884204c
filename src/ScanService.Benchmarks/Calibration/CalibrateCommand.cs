using System.CommandLine;
using System.Globalization;
using ScanService.Core.Bundle;
using ScanService.Core.Calibration;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks.Calibration;

/// <summary>
/// <c>scan-bench calibrate</c>: times every graph of a bundle on this machine and its execution provider, chooses each
/// named point's thresholds again for least measured time (at least as accurate on the validation records the bundle
/// carries), prints both choices with both costs and, with <c>--record</c>, writes them into the bundle's manifest.
/// </summary>
public static class CalibrateCommand
{
    public static Command Create(string root)
    {
        var bundle = CommonOptions.Bundle(root);
        var batch = new Option<int>("--batch-size") { Description = "batch size the graphs are timed at: what the dynamic batcher runs under load", DefaultValueFactory = _ => 32 };
        var seconds = new Option<double>("--seconds") { Description = "how long the graphs are timed", DefaultValueFactory = _ => 10 };
        var provider = new Option<ExecutionProviderPreference>("--provider") { Description = "execution provider to time on (the one that will serve)", DefaultValueFactory = _ => ExecutionProviderPreference.Cpu };
        var record = new Option<bool>("--record") { Description = "write the calibrated thresholds and both costs into the bundle's manifest.json (replaced atomically; training's thresholds are kept in its calibration section)" };
        var command = new Command("calibrate", "choose each operating point's thresholds for least measured time on this machine, from the bundle's validation records")
        {
            bundle, batch, seconds, provider, record,
        };
        command.SetAction(r =>
        {
            var loaded = ModelBundle.Load(r.GetValue(bundle)!);
            var records = Calibrator.RecordsOf(loaded);
            using var engine = EarlyExitEngine.Create(loaded, OnnxSessions.ChooseProvider(r.GetValue(provider)));
            var machine = MachineInfo.Capture();
            Console.WriteLine($"Timing {loaded.Manifest.Model.Name} {loaded.Manifest.Model.Version} at batch {r.GetValue(batch)} for {r.GetValue(seconds)} s on {engine.Provider.Name}, {machine.Cpu} ({machine.Cores} cores, load {machine.LoadAverageAtStart})");
            var calibrated = Calibrator.Calibrate(loaded.Manifest, engine, records, r.GetValue(batch), TimeSpan.FromSeconds(r.GetValue(seconds)),
                $"{machine.Cpu}, {machine.Cores} cores, {machine.Os}");
            Print(calibrated.Calibration!, records.SampleCount);
            if (r.GetValue(record))
            {
                loaded.RewriteManifest(calibrated);
                Console.WriteLine($"Recorded in {Path.Combine(loaded.Directory, ModelManifest.FileName)}");
            }
            return 0;
        });
        return command;
    }

    private static void Print(CalibrationRecord c, int samples)
    {
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine(F($"Per sample: monolithic {c.MonolithicMs * 1000:F1} µs; stages {string.Join(" / ", c.StageMs.Select(t => F($"{t * 1000:F1}")))} µs; heads {string.Join(" / ", c.HeadMs.Select(t => F($"{t * 1000:F1}")))} µs"));
        Console.WriteLine($"| point | thresholds (training: least multiply-adds) | time / monolithic | multiply-adds / monolithic | thresholds (calibrated: least time) | time / monolithic | multiply-adds / monolithic | validation accuracy ({samples} images) |");
        Console.WriteLine("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var p in c.Points)
        {
            Console.WriteLine(F($"| {p.Name} | {Thresholds(p.MultiplyAddThresholds)} | {p.MultiplyAddRelativeTime:F3} | {p.MultiplyAddRelativeCost:F3} | {Thresholds(p.Thresholds)} | {p.RelativeTime:F3} | {p.RelativeCost:F3} | {p.ValidationAccuracy:P2} |"));
        }
    }

    private static string Thresholds(IReadOnlyList<float> t) =>
        ExitRule.Describe(t.Take(t.Count - 1));
}
