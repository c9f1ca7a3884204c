using System.CommandLine;
using ScanService.Core.Bundle;

namespace ScanService.Training.Cli;

/// <summary>Options shared by several commands.</summary>
public static class CliOptions
{
    public static Option<T> Make<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    public static Option<T?> Optional<T>(string name, string description) => new(name) { Description = description };

    /// <summary>Which attention module a network has (train, export-random).</summary>
    public static Option<Model.AttentionUpsampling> AttentionUpsamplingOption() => Make("--attention-upsampling",
        "attention form: Deconvolution (the paper's) or Nearest (1x1 convolution at half resolution and nearest-neighbour upsampling; cheaper to serve)",
        Model.AttentionUpsampling.Deconvolution);

    /// <summary>How an exported graph writes the paper form's transposed convolution (export, export-random).</summary>
    public static Option<Export.AttentionGraphForm> AttentionFormOption() => Make("--attention-form",
        "how the paper form's transposed convolution is written: ConvTranspose, or ConvDepthToSpace (a 3x3 convolution and a pixel shuffle); " +
        "both compute the same values (no effect on a Nearest-attention network)",
        Export.ScanGraphSet.DefaultAttentionForm);

    public sealed class DataOptions
    {
        public Option<string> Dataset { get; } = Make("--dataset", $"dataset: {string.Join(", ", DataSource.Known)}", "fashion-mnist");
        public Option<string?> DataDir { get; } = Optional<string>("--data-dir", "folder of the dataset's files (default for fashion-mnist: the Debian package's folder)");
        public Option<string?> TestDir { get; } = Optional<string>("--test-dir", "for --dataset folder: the test images, one subfolder per class");
        public Option<int> ImageSize { get; } = Make("--image-size", "for --dataset folder: images are resized to this square size", 32);
        public Option<ColorMode> Color { get; } = Make("--color", "for --dataset folder: grayscale or rgb", ColorMode.Rgb);
        public Option<int> ValidationCount { get; } = Make("--validation", "images carved from the training set for validation (never the test set)", 5000);
        public Option<int> ValidationSeed { get; } = Make("--validation-seed", "seed of the validation split", 2019);

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Dataset, DataDir, TestDir, ImageSize, Color, ValidationCount, ValidationSeed })
                command.Options.Add(option);
        }

        public DataSource Read(ParseResult r) => new()
        {
            Dataset = r.GetValue(Dataset)!.ToLowerInvariant(),
            Directory = r.GetValue(DataDir),
            TestDirectory = r.GetValue(TestDir),
            ImageSize = r.GetValue(ImageSize),
            ColorMode = r.GetValue(Color),
            ValidationCount = r.GetValue(ValidationCount),
            ValidationSeed = r.GetValue(ValidationSeed),
        };
    }

    /// <summary>--run and --weights: the trained run a command reads (tune, export), and which of its weights.</summary>
    public sealed class RunOptions
    {
        public Option<string> Run { get; } = new("--run") { Description = "run folder written by train", Required = true };
        public Option<string> Weights { get; } = TrainedRun.WeightsOption();

        public void AddTo(Command command)
        {
            command.Options.Add(Run);
            command.Options.Add(Weights);
        }

        public TrainedRun Load(ParseResult r) => TrainedRun.Load(r.GetValue(Run)!, r.GetValue(Weights)!);
    }
}
