using System.CommandLine;
using System.Text.Json;
using ScanService.Training.Comparison;
using ScanService.Training.Learning;
using Spectre.Console;
using static ScanService.Training.Cli.CliOptions;

namespace ScanService.Training.Cli;

/// <summary>The figures <c>compare</c> prints and writes: which exit of which run, and the test between them.</summary>
public sealed record RunComparison(string Split, string First, int FirstExit, string Second, int SecondExit, McNemarResult Result);

public static class CompareCommand
{
    public static Command Create()
    {
        var first = new Option<string>("--run") { Description = "the first run folder", Required = true };
        var second = new Option<string>("--against") { Description = "the second run folder (for example the plain baseline)", Required = true };
        var firstExit = Optional<int?>("--exit", "exit of the first run, 1-based (default: its deepest)");
        var secondExit = Optional<int?>("--against-exit", "exit of the second run, 1-based (default: its deepest)");
        var split = Make("--split", "validation or test", "test");
        var weights = TrainedRun.WeightsOption();
        var json = Optional<string>("--json", "also write the figures as JSON to this file");
        var command = new Command("compare", "Compare one exit of two runs on the same images: accuracy of each and McNemar's exact test on the images where they disagree");
        foreach (var option in new Option[] { first, second, firstExit, secondExit, split, weights, json }) command.Options.Add(option);
        command.SetAction(r =>
        {
            var a = TrainedRun.Load(r.GetValue(first)!, r.GetValue(weights)!);
            var b = TrainedRun.Load(r.GetValue(second)!, r.GetValue(weights)!);
            var splitName = r.GetValue(split)!;
            var (correctA, exitA) = Correctness(a, splitName, r.GetValue(firstExit));
            var (correctB, exitB) = Correctness(b, splitName, r.GetValue(secondExit));
            var comparison = new RunComparison(splitName, a.Folder.Root, exitA, b.Folder.Root, exitB, McNemarTest.Compare(correctA, correctB));
            Print(comparison);
            if (r.GetValue(json) is { } path) File.WriteAllText(path, JsonSerializer.Serialize(comparison, RunFolder.Json));
            return 0;
        });
        return command;
    }

    private static (bool[] Correct, int Exit) Correctness(TrainedRun run, string splitName, int? exit)
    {
        var split = splitName switch
        {
            "validation" => run.Validation,
            "test" => run.Test,
            _ => throw new ArgumentException($"--split must be validation or test, not '{splitName}'"),
        };
        var outputs = run.Outputs(split, out _);
        var k = exit ?? outputs.ExitCount;
        if (k < 1 || k > outputs.ExitCount) throw new ArgumentException($"the run in '{run.Folder.Root}' has exits 1 to {outputs.ExitCount}, not {k}");
        return (Enumerable.Range(0, outputs.SampleCount).Select(i => outputs.IsCorrect(i, k - 1)).ToArray(), k);
    }

    private static void Print(RunComparison c)
    {
        var r = c.Result;
        var table = new Table().AddColumns("", $"{c.First} exit {c.FirstExit}", $"{c.Second} exit {c.SecondExit}");
        table.AddRow("accuracy", $"{r.FirstAccuracy:P2}", $"{r.SecondAccuracy:P2}");
        table.AddRow("right where the other is wrong", $"{r.OnlyFirstRight}", $"{r.OnlySecondRight}");
        AnsiConsole.Write(table);
        Console.WriteLine($"{r.Samples} {c.Split} images; both right {r.BothRight}, both wrong {r.BothWrong}; difference {r.DifferencePoints:+0.00;-0.00} points; McNemar exact p = {r.PValue:G3}");
    }
}
