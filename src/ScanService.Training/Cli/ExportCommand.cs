using System.CommandLine;
using ScanService.Core.Bundle;
using ScanService.Training.Data;
using ScanService.Training.Export;
using ScanService.Training.Tuning;
using Spectre.Console;
using static ScanService.Training.Cli.CliOptions;
using static TorchSharp.torch;

namespace ScanService.Training.Cli;

public static class ExportCommand
{
    public static Command Create()
    {
        var trainedRun = new RunOptions();
        var output = new Option<string>("--out") { Description = "bundle folder to write (replaced only once the new bundle passes its checks)", Required = true };
        var name = Make("--name", "model name in the manifest", "fashion-mnist-scan");
        var version = Make("--version", "model version in the manifest", "1.0.0");
        var points = Optional<string>("--operating-points", $"operating points from tune (default: <run>/tuning/{OperatingPointsFile.FileName} when present)");
        var tolerance = Make("--tolerance", "largest absolute difference allowed between TorchSharp and ONNX Runtime", ParityCheck.DefaultTolerance);
        var form = AttentionFormOption();
        var note = Optional<string>("--command-note", "a line recorded in the manifest's training commands (how the run was made)");
        var command = new Command("export", "Write a model bundle (one ONNX graph per stage, attention module and classifier, the monolithic graph, manifest.json) and prove it equal to TorchSharp");
        trainedRun.AddTo(command);
        foreach (var option in new Option[] { output, name, version, points, tolerance, form, note }) command.Options.Add(option);
        command.SetAction(r =>
        {
            var trained = trainedRun.Load(r);
            var pointsPath = r.GetValue(points) ?? Path.Combine(trained.Folder.Root, "tuning", OperatingPointsFile.FileName);
            OperatingPointsFile? tuned = null;
            if (File.Exists(pointsPath))
                tuned = OperatingPointsFile.Load(pointsPath);
            else if (r.GetValue(points) is not null)
                throw new FileNotFoundException($"operating points file '{pointsPath}' does not exist");
            else
                Console.WriteLine("no tuned operating points found: the bundle will answer at full depth until tuned");

            // The validation outputs tune recorded go into the bundle, for calibration where it is served.
            var recordsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(pointsPath))!, "validation-outputs.bin");
            var records = File.Exists(recordsPath) && trained.Network.Architecture.EarlyExits ? ToValidationRecords(ExitOutputs.Load(recordsPath)) : null;
            if (records is null) Console.WriteLine("no recorded validation outputs found: the bundle will carry no validation records, and cannot be calibrated");
            var result = Export(trained, r.GetValue(output)!, new Core.Bundle.ModelIdentity(r.GetValue(name)!, r.GetValue(version)!), tuned, r.GetValue(tolerance), r.GetValue(note), records, r.GetValue(form));
            var table = new Table().AddColumns("file", "bytes", "multiply-adds", "largest difference");
            foreach (var graph in ModelBundle.AllGraphs(result.Manifest))
            {
                var difference = result.Parity.FirstOrDefault(p => p.File == graph.File)?.MaxAbsDifference;
                table.AddRow(graph.File, $"{new FileInfo(Path.Combine(result.Directory, graph.File)).Length:N0}", $"{graph.MultiplyAdds:N0}", difference is { } d ? d.ToString("E2") : "");
            }
            AnsiConsole.Write(table);
            Console.WriteLine($"bundle written to {result.Directory}; largest parity difference {result.MaxParityDifference:E2} (tolerance {r.GetValue(tolerance):E0})");
            return 0;
        });
        return command;
    }

    /// <summary>The confidence and correctness of every exit on every validation sample, in the bundle's form.</summary>
    public static Core.Calibration.ValidationRecords ToValidationRecords(ExitOutputs outputs) =>
        new(outputs.SampleCount, outputs.ExitCount, outputs.Confidences.ToArray(), outputs.Correct.ToArray());

    public static ExportResult Export(TrainedRun trained, string output, ModelIdentity identity, OperatingPointsFile? tuned, double tolerance, string? commandNote,
        Core.Calibration.ValidationRecords? validationRecords = null, AttentionGraphForm attentionForm = ScanGraphSet.DefaultAttentionForm)
    {
        var record = trained.Record;
        var metrics = trained.Folder.ReadMetrics();
        var state = trained.Folder.HasCheckpoint ? trained.Folder.ReadState() : null;
        // Real validation images join the random parity inputs: they exercise the value ranges training produced.
        var count = Math.Min(16, trained.Validation.Count);
        var size = trained.Validation.SampleSize;
        var pixels = new float[count * size];
        var batches = new BatchIterator(trained.Validation, trained.Normalization, count);
        batches.Fill(Enumerable.Range(0, count).ToArray(), 0, pixels, new int[count]);
        using var parityInput = tensor(pixels, [count, trained.Validation.Channels, trained.Validation.Height, trained.Validation.Width]);

        var commands = new List<string> { record.Command };
        if (commandNote is not null) commands.Add(commandNote);
        commands.Add("scan-train " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        return BundleExporter.Export(trained.Network, new ExportRequest
        {
            TargetDirectory = output,
            Model = identity,
            Labels = record.Data.Labels,
            Mean = record.Data.Mean,
            Std = record.Data.Std,
            OperatingPoints = tuned,
            ValidationRecords = validationRecords,
            ParityInput = parityInput,
            ParityTolerance = tolerance,
            AttentionForm = attentionForm,
            Training = new TrainingRecord
            {
                Dataset = record.Data.Dataset,
                Epochs = state?.CompletedEpochs,
                Seed = record.Options.Seed,
                Commands = commands,
                Duration = state is null ? null : TimeSpan.FromSeconds(state.ElapsedSeconds).ToString(@"hh\:mm\:ss"),
                Notes = new Dictionary<string, string>
                {
                    ["weights"] = Path.GetFileName(trained.WeightsFile),
                    ["bestEpoch"] = state?.BestEpoch.ToString() ?? "",
                    ["validationAccuracyPerExit"] = metrics.Count > 0 && state is not null
                        ? string.Join(" ", metrics.First(m => m.Epoch == state.BestEpoch).ValidationAccuracy.Select(a => a.ToString("F4")))
                        : "",
                    ["validationImages"] = record.Data.ValidationCount.ToString(),
                    ["trainingImages"] = record.Data.TrainCount.ToString(),
                },
            },
        });
    }
}
