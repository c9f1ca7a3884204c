using System.CommandLine;
using System.Text.Json;
using ScanService.Core.Bundle;
using ScanService.Training.Export;
using ScanService.Training.Learning;
using Spectre.Console;
using static ScanService.Training.Cli.CliOptions;

namespace ScanService.Training.Cli;

/// <summary>One exit's figures in the evaluation report.</summary>
public sealed record ExitEvaluation(int Exit, double Accuracy, long CumulativeMultiplyAdds, double RelativeCost, long TruncatedParameters);

public sealed record RunEvaluation(string Split, int Samples, IReadOnlyList<ExitEvaluation> Exits, double? EnsembleAccuracy, long MonolithicMultiplyAdds);

public static class EvaluateCommand
{
    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "run folder written by train (evaluates in TorchSharp)" };
        var bundle = new Option<string?>("--bundle") { Description = "exported model bundle (evaluates through the service's engine on ONNX Runtime)" };
        var weights = TrainedRun.WeightsOption();
        var split = Make("--split", "validation or test", "test");
        var json = Optional<string>("--json", "also write the figures as JSON to this file");
        var record = Make("--record", "with --bundle: write the test figures into the bundle's manifest", false);
        var data = new DataOptions();
        var command = new Command("evaluate", "Per-exit accuracy, ensemble accuracy and cost of a run, or each operating point of an exported bundle");
        foreach (var option in new Option[] { run, bundle, weights, split, json, record }) command.Options.Add(option);
        data.AddTo(command);
        command.SetAction(r =>
        {
            if (r.GetValue(bundle) is { } bundleDirectory)
                return BundleEvaluation.Run(bundleDirectory, data.Read(r), r.GetValue(json), r.GetValue(record));
            if (r.GetValue(run) is not { } runDirectory) throw new ArgumentException("give --run or --bundle");
            return EvaluateRun(TrainedRun.Load(runDirectory, r.GetValue(weights)!), r.GetValue(split)!, r.GetValue(json));
        });
        return command;
    }

    private static int EvaluateRun(TrainedRun run, string splitName, string? jsonPath)
    {
        var split = splitName switch
        {
            "validation" => run.Validation,
            "test" => run.Test,
            _ => throw new ArgumentException($"--split must be validation or test, not '{splitName}'"),
        };
        var evaluation = ConsoleReporter.WithProgress("evaluate", report =>
            ExitEvaluator.Evaluate(run.Network, split, run.Normalization, progress: new Progress<(int Done, int Total)>(p => report((double)p.Done / p.Total, $"{p.Done}/{p.Total}"))));
        var result = Summarise(run, splitName, evaluation);
        var table = new Table().AddColumns("exit", "accuracy", "multiply-adds (cumulative)", "relative cost", "parameters if truncated here");
        foreach (var e in result.Exits)
            table.AddRow($"{e.Exit}", $"{e.Accuracy:P2}", $"{e.CumulativeMultiplyAdds:N0}", $"{e.RelativeCost:F3}", $"{e.TruncatedParameters:N0}");
        if (result.EnsembleAccuracy is { } ensemble) table.AddRow("ensemble", $"{ensemble:P2}", "", "", "");
        AnsiConsole.Write(table);
        Console.WriteLine($"{result.Samples} {splitName} images; relative cost is against the monolithic graph ({result.MonolithicMultiplyAdds:N0} multiply-adds)");
        var text = JsonSerializer.Serialize(result, RunFolder.Json);
        File.WriteAllText(Path.Combine(run.Folder.Root, $"evaluation-{splitName}.json"), text);
        if (jsonPath is not null) File.WriteAllText(jsonPath, text);
        return 0;
    }

    public static RunEvaluation Summarise(TrainedRun run, string splitName, SplitEvaluation evaluation)
    {
        var graphs = ScanGraphSet.Build(run.Network);
        var monolithic = graphs.Monolithic.Spec.MultiplyAdds;
        IReadOnlyList<ExitSpec> exits = run.Network.Architecture.EarlyExits
            ? graphs.ExitSpecs()
            : [new ExitSpec { Index = 1, Classifier = graphs.Classifiers[^1].Spec, CumulativeMultiplyAdds = monolithic, CumulativeParameters = graphs.Monolithic.Spec.Parameters }];
        var rows = exits.Select((e, k) => new ExitEvaluation(e.Index, evaluation.Accuracy(k), e.CumulativeMultiplyAdds, (double)e.CumulativeMultiplyAdds / monolithic, e.CumulativeParameters)).ToList();
        return new RunEvaluation(splitName, evaluation.SampleCount, rows, evaluation.ExitCount > 1 ? evaluation.EnsembleAccuracy() : null, monolithic);
    }
}
