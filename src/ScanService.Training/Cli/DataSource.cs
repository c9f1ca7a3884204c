using ScanService.Core.Bundle;
using ScanService.Core.Preprocessing;
using ScanService.Datasets;
using ScanService.Training.Data;

namespace ScanService.Training.Cli;

/// <summary>Which data a command reads: a named dataset and where its files are.</summary>
public sealed record DataSource
{
    public string Dataset { get; init; } = "fashion-mnist";
    public string? Directory { get; init; }
    /// <summary>For image folders: the test folder (class subfolders as in the training folder).</summary>
    public string? TestDirectory { get; init; }
    /// <summary>For image folders: the size and colour images are brought to.</summary>
    public int ImageSize { get; init; } = 32;
    public ColorMode ColorMode { get; init; } = ColorMode.Rgb;
    public int ValidationCount { get; init; } = 5000;
    public int ValidationSeed { get; init; } = 2019;
    /// <summary>Use only the first N images of the training split (smoke runs).</summary>
    public int? TrainLimit { get; init; }

    public static readonly IReadOnlyList<string> Known = ["fashion-mnist", "mnist", "cifar10", "cifar100", "folder"];

    /// <summary>Loads the train and test sets; the folder each comes from is reported in any error.</summary>
    public TrainTestSets Load() => Dataset switch
    {
        "fashion-mnist" => IdxDataset.LoadFashionMnist(Directory ?? FashionMnist.DefaultDirectory),
        "mnist" => IdxDataset.LoadMnist(Directory ?? throw new ArgumentException("--data-dir is required for mnist")),
        "cifar10" => Cifar10.Load(Directory ?? throw new ArgumentException("--data-dir is required for cifar10")),
        "cifar100" => Cifar100.Load(Directory ?? throw new ArgumentException("--data-dir is required for cifar100")),
        "folder" => ImageFolder.Load(
            Directory ?? throw new ArgumentException("--data-dir is required for folder"),
            TestDirectory ?? throw new ArgumentException("--test-dir is required for folder"),
            new DecodeTarget(ColorMode, ImageSize, ImageSize)),
        _ => throw new ArgumentException($"unknown dataset '{Dataset}': use {string.Join(", ", Known)}"),
    };

    /// <summary>Carves the validation split from the training set: the test set never chooses anything.</summary>
    public (ImageDataset Train, ImageDataset Validation, ImageDataset Test) LoadSplits()
    {
        var sets = Load();
        var split = ValidationSplit.Carve(sets.Train, ValidationCount, ValidationSeed);
        return (split.Train, split.Validation, sets.Test);
    }
}
