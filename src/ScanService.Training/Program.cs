using System.CommandLine;
using ScanService.Core.Bundle;
using ScanService.Training.Cli;
using ScanService.Datasets;
using ScanService.Training.Data;
using ScanService.Training.Export;
using ScanService.Training.Learning;

var root = new RootCommand("scan-train: train SCAN early-exit networks, evaluate every exit, tune exit thresholds, export model bundles")
{
    TrainCommand.Create(),
    EvaluateCommand.Create(),
    TuneCommand.Create(),
    TuneCommand.CreateFigures(),
    ExportCommand.Create(),
    CompareCommand.Create(),
    ExportRandomCommand.Create(),
};

try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is DatasetException or TrainingDivergedException or BundleValidationException or ExportParityException or ArgumentException or InvalidOperationException or FileNotFoundException or IOException)
{
    // Expected failures get one clear line; anything else keeps its stack trace for a bug report.
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
