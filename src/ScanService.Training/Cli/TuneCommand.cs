using System.CommandLine;
using ScanService.Training.Tuning;
using Spectre.Console;
using static ScanService.Training.Cli.CliOptions;
using static TorchSharp.torch;

namespace ScanService.Training.Cli;

public static class TuneCommand
{
    public static Command Create()
    {
        var trainedRun = new RunOptions();
        var population = Make("--population", "genetic algorithm: population size", 64);
        var generations = Make("--generations", "genetic algorithm: generations", 100);
        var crossover = Make("--crossover-rate", "genetic algorithm: crossover rate", 0.9);
        var mutation = Make("--mutation-rate", "genetic algorithm: mutation rate per gene", 0.2);
        var sigma = Make("--mutation-sigma", "genetic algorithm: standard deviation of a mutation", 0.1);
        var seed = Make("--seed", "genetic algorithm: seed", 42);
        var balanced = Make("--balanced-tolerance", "balanced: the cheapest point within this many accuracy points of full depth", 0.5);
        var fast = Make("--fast-tolerance", "fast: the cheapest point within this many accuracy points of full depth", 2.0);
        var command = new Command("tune", "Search per-exit thresholds with a genetic algorithm on the validation split and choose operating points");
        trainedRun.AddTo(command);
        foreach (var option in new Option[] { population, generations, crossover, mutation, sigma, seed, balanced, fast }) command.Options.Add(option);
        command.SetAction(r =>
        {
            var trained = trainedRun.Load(r);
            if (!trained.Network.Architecture.EarlyExits) throw new ArgumentException("the plain baseline has one exit: nothing to tune");
            var options = new TuningOptions
            {
                Genetic = new GeneticSearchOptions
                {
                    PopulationSize = r.GetValue(population),
                    Generations = r.GetValue(generations),
                    CrossoverRate = r.GetValue(crossover),
                    MutationRate = r.GetValue(mutation),
                    MutationSigma = r.GetValue(sigma),
                    Seed = r.GetValue(seed),
                },
                OperatingPoints = new OperatingPointOptions { BalancedTolerancePoints = r.GetValue(balanced), FastTolerancePoints = r.GetValue(fast) },
            };
            return Tune(trained, options);
        });
        return command;
    }

    public static int Tune(TrainedRun trained, TuningOptions options)
    {
        var folder = Path.Combine(trained.Folder.Root, "tuning");
        Directory.CreateDirectory(folder);
        // Validation outputs are collected once; the search never runs the network again.
        var validation = trained.Outputs(trained.Validation, out _);
        validation.Save(Path.Combine(folder, "validation-outputs.bin"));
        var result = ConsoleReporter.WithProgress("genetic search", report =>
            ThresholdTuner.Run(validation, options, new Progress<GeneticSearchProgress>(p =>
                report((double)p.Generation / p.Generations, $"generation {p.Generation}/{p.Generations}, front {p.FrontSize}, best accuracy {p.BestAccuracy:P2}"))));

        // The test split only checks the chosen points; nothing is chosen on it.
        var test = trained.Outputs(trained.Test, out _);
        var chosen = OperatingPointsFile.From(result, test);
        chosen.Save(Path.Combine(folder, OperatingPointsFile.FileName));

        var report = TuningReport.Create(result);
        File.WriteAllText(Path.Combine(folder, "report.md"), report.ToMarkdown() + TestSection(result, test));
        File.WriteAllText(Path.Combine(folder, "report.json"), report.ToJson());
        File.WriteAllText(Path.Combine(folder, "accuracy-vs-cost.svg"), SvgPlots.AccuracyVsCost(result));
        File.WriteAllText(Path.Combine(folder, "exits-per-class.svg"),
            SvgPlots.ExitSharesByClass(test, result.Default.Thresholds, trained.Record.Data.Labels, $"Exit taken per class, {result.DefaultOperatingPoint} (test)"));
        WriteRunFigures(trained, folder);

        var table = new Table().AddColumns("operating point", "thresholds", "validation accuracy", "relative cost", "test accuracy", "test relative cost", "test share per exit");
        foreach (var p in chosen.OperatingPoints)
            table.AddRow(p.Name, string.Join(" ", p.Thresholds.Select(t => t.ToString("F3"))), $"{p.ValidationAccuracy:P2}", $"{p.RelativeCost:F3}",
                $"{p.TestAccuracy:P2}", $"{p.TestRelativeCost:F3}", string.Join(" ", (p.TestExitShares ?? []).Select(s => s.ToString("P1"))));
        var full = EarlyExitSimulator.Simulate(test, EarlyExitSimulator.OnlyExit(test.ExitCount - 1, test.ExitCount));
        table.AddRow("full depth (exit 4)", "", $"{result.FullDepth.Accuracy:P2}", $"{result.FullDepth.RelativeCost:F3}", $"{full.Accuracy:P2}", $"{full.RelativeCost:F3}", "");
        AnsiConsole.Write(table);
        Console.WriteLine($"report, plots and {OperatingPointsFile.FileName} in {folder}; default operating point {result.DefaultOperatingPoint}");
        return 0;
    }

    private static string TestSection(TuningResult result, ExitOutputs test)
    {
        var lines = new List<string> { "", "## Chosen operating points on the test split", "", "| point | test accuracy | test relative cost | share per exit |", "|---|---|---|---|" };
        foreach (var p in result.OperatingPoints)
        {
            var s = EarlyExitSimulator.Simulate(test, p.Thresholds);
            lines.Add($"| {p.Name} | {s.Accuracy:P2} | {s.RelativeCost:F3} | {string.Join(" ", s.ExitShares.Select(x => x.ToString("P1")))} |");
        }
        var full = EarlyExitSimulator.Simulate(test, EarlyExitSimulator.OnlyExit(test.ExitCount - 1, test.ExitCount));
        lines.Add($"| full depth | {full.Accuracy:P2} | {full.RelativeCost:F3} | |");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>The run's figures that need no tuning: attention maps (when it has attention modules) and training curves.</summary>
    public static IReadOnlyList<string> WriteRunFigures(TrainedRun trained, string folder)
    {
        var written = new List<string>();
        void Write(string name, string svg)
        {
            File.WriteAllText(Path.Combine(folder, name), svg);
            written.Add(name);
        }
        if (trained.Network.Attention.Count > 0) Write("attention-maps.svg", SvgPlots.AttentionGrid(AttentionSamples(trained)));
        var metrics = trained.Folder.ReadMetrics();
        if (metrics.Count > 0)
        {
            Write("training-loss.svg", SvgPlots.TrainingLoss(metrics));
            Write("validation-accuracy.svg", SvgPlots.ValidationAccuracy(metrics));
        }
        return written;
    }

    /// <summary>Redraws <see cref="WriteRunFigures"/> (after a change to the figures, without tuning again).</summary>
    public static Command CreateFigures()
    {
        var trainedRun = new RunOptions();
        var output = Optional<string>("--out", "folder for the figures (default: <run>/tuning)");
        var command = new Command("figures", "Draw a run's attention maps (two test images per class) and training curves");
        trainedRun.AddTo(command);
        command.Options.Add(output);
        command.SetAction(r =>
        {
            var trained = trainedRun.Load(r);
            var folder = r.GetValue(output) ?? Path.Combine(trained.Folder.Root, "tuning");
            Directory.CreateDirectory(folder);
            var written = WriteRunFigures(trained, folder);
            Console.WriteLine($"{string.Join(", ", written)} written to {folder}");
            return 0;
        });
        return command;
    }

    /// <summary>Two test images per class with each attention module's map (mean over channels), as in the paper's figure.</summary>
    private static List<AttentionSample> AttentionSamples(TrainedRun trained)
    {
        var test = trained.Test;
        var network = trained.Network;
        var chosen = new List<int>();
        for (var c = 0; c < test.ClassNames.Count; c++)
            chosen.AddRange(Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == c).Take(2));
        var samples = new List<AttentionSample>();
        using var noGrad = no_grad();
        network.eval();
        var size = test.SampleSize;
        var pixels = new float[size];
        foreach (var index in chosen)
        {
            using var scope = NewDisposeScope();
            trained.Normalization.Apply(test.Sample(index), pixels);
            var x = tensor(pixels, [1, test.Channels, test.Height, test.Width]);
            var features = network.StageFeatures(x);
            var maps = new List<HeatMap>();
            for (var k = 0; k < network.Attention.Count; k++)
            {
                var map = network.Attention[k].Map(features[k]).mean([1L])[0];
                maps.Add(new HeatMap((int)map.shape[0], (int)map.shape[1], map.data<float>().ToArray()));
            }
            var grey = new float[test.Height * test.Width];
            var sample = test.Sample(index);
            for (var i = 0; i < grey.Length; i++)
            {
                float sum = 0;
                for (var c = 0; c < test.Channels; c++) sum += sample[c * grey.Length + i];
                grey[i] = sum / test.Channels / 255f;
            }
            samples.Add(new AttentionSample(new HeatMap(test.Height, test.Width, grey), maps, test.ClassNames[test.Labels[index]]));
        }
        return samples;
    }
}
