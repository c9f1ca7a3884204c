using System.CommandLine;
using ScanService.Core.Preprocessing;
using ScanService.Training.Data;
using ScanService.Training.Export;
using ScanService.Training.Model;
using ScanService.Training.Learning;
using ScanService.Training.Tuning;

namespace ScanService.Training.Cli;

/// <summary>A finished (or checkpointed) run loaded for evaluate, tune and export: its network, data and costs.</summary>
public sealed class TrainedRun
{
    public required RunFolder Folder { get; init; }
    public required RunRecord Record { get; init; }
    public required ScanNetwork Network { get; init; }
    public required string WeightsFile { get; init; }
    public required ChannelNormalization Normalization { get; init; }
    public required ImageDataset Validation { get; init; }
    public required ImageDataset Test { get; init; }

    public static Option<string> WeightsOption() => CliOptions.Make("--weights", "best (by validation accuracy of the deepest exit) or last (the last checkpoint)", "best");

    public static TrainedRun Load(string runDirectory, string weights)
    {
        var folder = new RunFolder(runDirectory);
        var record = folder.ReadRun();
        var file = weights switch
        {
            "best" => folder.BestWeightsFile,
            "last" => folder.WeightsFile,
            _ => throw new ArgumentException($"--weights must be best or last, not '{weights}'"),
        };
        if (!File.Exists(file)) throw new InvalidOperationException($"the run in '{folder.Root}' has no {weights} weights yet ({file}); has an epoch finished?");
        var network = ScanTrainer.Load(record.Options.Architecture, file);
        var (_, validation, test) = TrainCommand.LoadTrain(record.Data.Source, record.Data.Source.TrainLimit);
        return new TrainedRun
        {
            Folder = folder,
            Record = record,
            Network = network,
            WeightsFile = file,
            Normalization = new ChannelNormalization(record.Data.Mean, record.Data.Std),
            Validation = validation,
            Test = test,
        };
    }

    /// <summary>Every exit's confidence and correctness on a split, with the costs the bundle's manifest will state.</summary>
    public ExitOutputs Outputs(ImageDataset split, out SplitEvaluation evaluation)
    {
        var graphs = ScanGraphSet.Build(Network);
        var costs = graphs.ExitSpecs().Select(e => e.CumulativeMultiplyAdds).ToArray();
        var local = ConsoleReporter.WithProgress("evaluate", report =>
            ExitEvaluator.Evaluate(Network, split, Normalization, progress: new Progress<(int Done, int Total)>(p => report((double)p.Done / p.Total, $"{p.Done}/{p.Total}"))));
        evaluation = local;
        var heads = graphs.ExitSpecs().Select(e => (e.Attention?.MultiplyAdds ?? 0) + e.Classifier.MultiplyAdds).ToArray();
        return new ExitOutputs(local.SampleCount, local.ExitCount, local.Confidence, local.CorrectFlags(), costs, graphs.Monolithic.Spec.MultiplyAdds, local.Labels, heads);
    }
}
