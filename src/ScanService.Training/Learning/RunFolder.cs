using System.Text.Json;
using ScanService.Core.Bundle;

namespace ScanService.Training.Learning;

/// <summary>What a run records about its data: needed again by evaluate, tune and export.</summary>
public sealed record DataRecord
{
    public required string Dataset { get; init; }
    /// <summary>Where the data came from, so that evaluate, tune and export read the same splits.</summary>
    public required Cli.DataSource Source { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>Per-channel statistics of the training split (pixels scaled to [0, 1]).</summary>
    public required IReadOnlyList<float> Mean { get; init; }
    public required IReadOnlyList<float> Std { get; init; }
    public required int TrainCount { get; init; }
    public required int ValidationCount { get; init; }
    public required int ValidationSeed { get; init; }
}

/// <summary>The options and data of a run: written once when it starts, compared on resume.</summary>
public sealed record RunRecord(TrainOptions Options, DataRecord Data, string Command);

/// <summary>Where a checkpointed run resumes from.</summary>
public sealed record CheckpointState(int CompletedEpochs, double BestValidationAccuracy, int BestEpoch, double ElapsedSeconds);

/// <summary>
/// A run folder: run.json, metrics.jsonl and checkpoint/ (last epoch: weights, optimiser, state, and the weights of
/// the best epoch by validation accuracy of the deepest exit). A checkpoint is written into a sibling folder and
/// renamed into place, so the best weights always belong with the state that names their epoch, and a run killed
/// mid-write resumes from the previous epoch.
/// </summary>
public sealed class RunFolder
{
    public string Root { get; }
    public string RunFile => Path.Combine(Root, "run.json");
    public string MetricsFile => Path.Combine(Root, "metrics.jsonl");
    public string CheckpointDirectory => Path.Combine(Root, "checkpoint");
    public string WeightsFile => Path.Combine(CheckpointDirectory, "weights.bin");
    public string OptimizerFile => Path.Combine(CheckpointDirectory, "optimizer.bin");
    public string StateFile => Path.Combine(CheckpointDirectory, "state.json");
    /// <summary>The best epoch's weights, inside the checkpoint (runs written before that kept them in the root).</summary>
    public string BestWeightsFile =>
        !File.Exists(Path.Combine(CheckpointDirectory, BestWeightsName)) && File.Exists(LegacyBestWeightsFile)
            ? LegacyBestWeightsFile
            : Path.Combine(CheckpointDirectory, BestWeightsName);
    private string LegacyBestWeightsFile => Path.Combine(Root, BestWeightsName);
    private const string BestWeightsName = "best.weights.bin";

    /// <summary>Called with the name of each step of <see cref="SaveCheckpoint"/> once it is done (tests simulate kills with it).</summary>
    public Action<string>? CheckpointStepCompleted { get; init; }

    public static readonly JsonSerializerOptions Json = ModelManifest.JsonOptions;
    private static readonly JsonSerializerOptions CompactJson = new(ModelManifest.JsonOptions) { WriteIndented = false };

    public RunFolder(string root) => Root = Path.GetFullPath(root);

    public bool HasCheckpoint => File.Exists(StateFile);

    public RunRecord ReadRun()
    {
        if (!File.Exists(RunFile)) throw new InvalidOperationException($"'{Root}' is not a run folder (no run.json)");
        return JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(RunFile), Json)
            ?? throw new InvalidOperationException($"{RunFile} is empty");
    }

    /// <summary>Creates the folder for a new run; refuses one that holds a run unless <paramref name="overwrite"/>.</summary>
    public void Create(RunRecord record, bool overwrite)
    {
        if (Directory.Exists(Root) && Directory.EnumerateFileSystemEntries(Root).Any())
        {
            if (!overwrite)
                throw new InvalidOperationException($"run folder '{Root}' already holds a run; pass --resume to continue it or --force to start over");
            Directory.Delete(Root, recursive: true);
        }
        Directory.CreateDirectory(Root);
        WriteAtomically(RunFile, JsonSerializer.Serialize(record, Json));
    }

    public CheckpointState ReadState() =>
        JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(StateFile), Json)
        ?? throw new InvalidOperationException($"{StateFile} is empty");

    /// <summary>
    /// Writes a checkpoint into a sibling folder and swaps it in; the old one is removed last. The best weights travel
    /// in the same folder: this epoch's weights when <paramref name="improved"/>, else a copy of the previous best.
    /// </summary>
    public void SaveCheckpoint(CheckpointState state, Action<string, string> writeWeightsAndOptimizer, bool improved)
    {
        var staging = CheckpointDirectory + ".new";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        var weights = Path.Combine(staging, "weights.bin");
        writeWeightsAndOptimizer(weights, Path.Combine(staging, "optimizer.bin"));
        Step("weights");
        var previousBest = BestWeightsFile;
        if (improved) File.Copy(weights, Path.Combine(staging, BestWeightsName));
        else if (File.Exists(previousBest)) File.Copy(previousBest, Path.Combine(staging, BestWeightsName));
        Step("best");
        File.WriteAllText(Path.Combine(staging, "state.json"), JsonSerializer.Serialize(state, Json));
        Step("state");
        var old = CheckpointDirectory + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(CheckpointDirectory)) Directory.Move(CheckpointDirectory, old);
        Step("retire");
        Directory.Move(staging, CheckpointDirectory);
        Step("swap");
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        Step("clean");
        if (File.Exists(LegacyBestWeightsFile)) File.Delete(LegacyBestWeightsFile);
        Step("legacy");
    }

    /// <summary>The steps of <see cref="SaveCheckpoint"/>, in order.</summary>
    public static readonly IReadOnlyList<string> CheckpointSteps = ["weights", "best", "state", "retire", "swap", "clean", "legacy"];

    private void Step(string name) => CheckpointStepCompleted?.Invoke(name);

    /// <summary>Recovers from a kill between the two moves of <see cref="SaveCheckpoint"/>.</summary>
    public void RecoverInterruptedCheckpoint()
    {
        var old = CheckpointDirectory + ".old";
        if (!Directory.Exists(CheckpointDirectory) && Directory.Exists(old)) Directory.Move(old, CheckpointDirectory);
    }

    public void AppendMetrics(EpochMetrics metrics) =>
        File.AppendAllText(MetricsFile, JsonSerializer.Serialize(metrics, CompactJson) + "\n");

    /// <summary>Drops metric lines of epochs after <paramref name="completedEpochs"/> (written after the checkpoint a resume starts from).</summary>
    public void TruncateMetrics(int completedEpochs)
    {
        if (!File.Exists(MetricsFile)) return;
        var kept = File.ReadAllLines(MetricsFile)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Where(line => JsonSerializer.Deserialize<EpochMetrics>(line, Json)!.Epoch <= completedEpochs)
            .ToList();
        WriteAtomically(MetricsFile, string.Concat(kept.Select(l => l + "\n")));
    }

    public IReadOnlyList<EpochMetrics> ReadMetrics() =>
        File.Exists(MetricsFile)
            ? File.ReadAllLines(MetricsFile).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => JsonSerializer.Deserialize<EpochMetrics>(l, Json)!).ToList()
            : [];

    public static void WriteAtomically(string path, string content)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
