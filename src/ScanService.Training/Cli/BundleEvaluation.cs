using System.Text.Json;
using ScanService.Core.Bundle;
using ScanService.Core.Evaluation;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;
using ScanService.Training.Learning;
using Spectre.Console;

namespace ScanService.Training.Cli;

/// <summary>`evaluate --bundle`: the test set through the very engine the service runs.</summary>
public static class BundleEvaluation
{
    public static int Run(string bundleDirectory, DataSource source, string? jsonPath, bool record)
    {
        var bundle = ModelBundle.Load(bundleDirectory);
        var test = source.Load().Test;
        var input = bundle.Manifest.Input;
        if (test.Channels != input.Channels || test.Height != input.Height || test.Width != input.Width)
            throw new ArgumentException($"the test set is {test.Channels}x{test.Height}x{test.Width}, the bundle expects {input.Channels}x{input.Height}x{input.Width}");
        var pixels = new float[test.Count * test.SampleSize];
        var normalization = ChannelNormalization.For(input);
        for (var i = 0; i < test.Count; i++)
            normalization.Apply(test.Sample(i), pixels.AsSpan(i * test.SampleSize, test.SampleSize));

        using var engine = EarlyExitEngine.Create(bundle, OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu));
        var report = ConsoleReporter.WithProgress("evaluate bundle", progress =>
            BundleEvaluator.Evaluate(engine, pixels, test.Labels, (done, status) => progress(done, status)));

        var table = new Table().AddColumns("mode", "accuracy", "relative cost", "share per exit");
        foreach (var row in report.Rows)
            table.AddRow(row.Mode, $"{row.Accuracy:P2}", $"{row.RelativeCost:F3}", string.Join(" ", row.ExitShares.Select(s => s.ToString("P1"))));
        AnsiConsole.Write(table);
        Console.WriteLine($"{test.Count} test images through the engine ({engine.Provider.Name}); relative cost against the monolithic graph");

        var text = JsonSerializer.Serialize(report, RunFolder.Json);
        if (jsonPath is not null) File.WriteAllText(jsonPath, text);
        if (record)
        {
            var updated = BundleEvaluator.Record(bundle.Manifest, report);
            bundle.RewriteManifest(updated);
            Console.WriteLine($"recorded the test figures in {Path.Combine(bundle.Directory, ModelManifest.FileName)}");
        }
        return 0;
    }
}
