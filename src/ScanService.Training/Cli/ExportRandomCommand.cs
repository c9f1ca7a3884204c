using System.CommandLine;
using ScanService.Core.Bundle;
using ScanService.Training.Export;
using ScanService.Training.Model;
using static ScanService.Training.Cli.CliOptions;

namespace ScanService.Training.Cli;

/// <summary>
/// <c>scan-train export-random</c>: a bundle of the SCAN shape at any width and input size, with seeded random weights
/// and no operating points. Its answers mean nothing; its graphs cost what a trained model of that size costs, which
/// is what <c>scan-bench scaling</c> measures (how the wall-clock gain of early exit grows with the model).
/// </summary>
public static class ExportRandomCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "bundle folder to write (replaced only once the new bundle passes its checks)", Required = true };
        var arch = Make("--arch", "resnet18, resnet34, resnet50 or resnet101", "resnet18");
        var width = Make("--width", "channels of the first stage (16: the default model)", 16);
        var size = Make("--image-size", "square input size in pixels (28: the default model)", 28);
        var channels = Make("--channels", "input channels (1 grey, 3 RGB)", 1);
        var classes = Make("--classes", "classes", 10);
        var seed = Make("--seed", "seed of the random weights", 1);
        var upsampling = AttentionUpsamplingOption();
        var form = AttentionFormOption();
        var command = new Command("export-random", "Write a bundle of the SCAN shape with random weights at any width and input size (for benchmarks), checked against TorchSharp");
        foreach (var option in new Option[] { output, arch, width, size, channels, classes, seed, upsampling, form }) command.Options.Add(option);
        command.SetAction(r =>
        {
            var (w, s, c, k) = (r.GetValue(width), r.GetValue(size), r.GetValue(channels), r.GetValue(classes));
            var architecture = ScanArchitecture.FromName(r.GetValue(arch)!, w, c, s, s, k) with { AttentionUpsampling = r.GetValue(upsampling) };
            using var network = new ScanNetwork(architecture);
            network.Initialize(r.GetValue(seed));
            var result = BundleExporter.Export(network, new ExportRequest
            {
                TargetDirectory = r.GetValue(output)!,
                Model = new ModelIdentity($"random-{r.GetValue(arch)}-w{w}-{s}px", "0.0.0"),
                Labels = Enumerable.Range(0, k).Select(i => $"class-{i}").ToList(),
                Mean = Enumerable.Repeat(0.5f, c).ToList(),
                Std = Enumerable.Repeat(0.25f, c).ToList(),
                AttentionForm = r.GetValue(form),
                Training = new TrainingRecord { Notes = new Dictionary<string, string> { ["weights"] = $"random, seed {r.GetValue(seed)}: for benchmarks only" } },
            });
            var m = result.Manifest;
            Console.WriteLine($"{m.Model.Name}: {m.FullDepthMultiplyAdds / 1e6:F1} M multiply-adds, {m.Exits[^1].CumulativeParameters:N0} parameters; "
                + $"bundle in {result.Directory}, largest parity difference {result.MaxParityDifference:E2}");
            return 0;
        });
        return command;
    }
}
