using System.CommandLine;
using ScanService.Training.Data;
using ScanService.Training.Model;
using ScanService.Training.Learning;
using Spectre.Console;
using static ScanService.Training.Cli.CliOptions;

namespace ScanService.Training.Cli;

public static class TrainCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run folder (checkpoints, metrics.jsonl, run.json)", Required = true };
        var arch = Make("--arch", "backbone: resnet18, resnet34, resnet50, resnet101", "resnet18");
        var width = Make("--width", "channels of stage 1 (64 in the original ResNets)", 16);
        var baseline = Make("--baseline", "train the plain baseline (backbone and head, no attention, no shallow exits)", false);
        var stem = Make("--stem", "small (3x3, for 28-32 px inputs) or imagenet (7x7/2 and max pooling)", StemKind.Small);
        var epochs = Make("--epochs", "epochs", 30);
        var batchSize = Make("--batch-size", "batch size", 128);
        var lr = Make("--lr", "initial learning rate (SGD)", 0.1);
        var schedule = Make("--schedule", "learning-rate schedule: cosine or step (x0.1 at 50% and 75%)", LearningRateSchedule.Cosine);
        var momentum = Make("--momentum", "SGD momentum", 0.9);
        var weightDecay = Make("--weight-decay", "weight decay", 5e-4);
        var seed = Make("--seed", "seed of initialisation, shuffling and augmentation", 42);
        var temperature = Make("--temperature", "distillation temperature T", 3.0);
        var alpha = Make("--alpha", "weight of distillation against cross-entropy for shallow exits", 0.5);
        var hint = Make("--hint-weight", "weight of the feature hint loss (squared distance of pooled features, summed over features, mean over the batch); default: the reference's 5e-7 x 128", DistillationOptions.ReferenceHintWeight);
        var noAttention = Make("--no-attention", "ablation: shallow exits without attention modules (self-distillation only)", false);
        var upsampling = AttentionUpsamplingOption();
        var crop = Make("--crop-padding", "zero padding of the random crop (0: no crop)", 2);
        var noFlip = Make("--no-flip", "turn off random horizontal flips", false);
        var erasing = Make("--random-erasing", "probability of random erasing per training image (Zhong et al. 2017; 0: off)", 0.0);
        var maxSteps = Optional<int?>("--max-steps", "stop each epoch after this many steps (smoke runs)");
        var trainLimit = Optional<int?>("--train-limit", "use only the first N images of the training split (smoke runs)");
        var threads = Make("--threads", "CPU threads for TorchSharp (0: all cores)", 0);
        var resume = Make("--resume", "continue the run in --run from its last checkpoint, with its saved options (its length included)", false);
        var force = Make("--force", "replace an existing run in --run", false);
        var data = new DataOptions();

        var command = new Command("train", "Train a SCAN network (or the plain baseline), checkpointing every epoch");
        foreach (var option in new Option[] { run, arch, width, baseline, noAttention, upsampling, stem, epochs, batchSize, lr, schedule, momentum, weightDecay, seed, temperature, alpha, hint, crop, noFlip, erasing, maxSteps, trainLimit, threads, resume, force })
            command.Options.Add(option);
        data.AddTo(command);

        command.SetAction(r =>
        {
            if (r.GetValue(threads) is > 0 and var n) TorchSharp.torch.set_num_threads(n);
            var folder = new RunFolder(r.GetValue(run)!);
            RunRecord record;
            if (r.GetValue(resume))
            {
                record = folder.ReadRun();
                var done = folder.HasCheckpoint ? folder.ReadState().CompletedEpochs : 0;
                // The learning-rate schedule is a function of the run's length: changing it on resume would make the
                // rate jump, so a run keeps the length it started with.
                if (r.GetResult(epochs) is { Implicit: false } && r.GetValue(epochs) != record.Options.Epochs)
                    throw new ArgumentException(
                        $"the run in '{folder.Root}' was started for {record.Options.Epochs} epochs and its learning-rate schedule follows that length; " +
                        $"resume it without --epochs, or start a new run (another --run folder) for {r.GetValue(epochs)} epochs");
                Console.WriteLine($"resuming {folder.Root} with its saved options; {(done > 0 ? $"{done} epoch(s) done" : "no checkpoint yet")}");
            }
            else
            {
                var source = data.Read(r);
                var (trainSet, validationSet, _) = LoadTrain(source, r.GetValue(trainLimit));
                var statistics = NormalizationStatistics.Compute(trainSet);
                var architecture = ScanArchitecture.FromName(r.GetValue(arch)!, r.GetValue(width), trainSet.Channels, trainSet.Height, trainSet.Width, trainSet.ClassNames.Count)
                    with { EarlyExits = !r.GetValue(baseline), AttentionModules = !r.GetValue(noAttention), AttentionUpsampling = r.GetValue(upsampling), Stem = r.GetValue(stem) };
                var options = new TrainOptions
                {
                    Architecture = architecture,
                    Epochs = r.GetValue(epochs),
                    BatchSize = r.GetValue(batchSize),
                    LearningRate = r.GetValue(lr),
                    Schedule = r.GetValue(schedule),
                    Momentum = r.GetValue(momentum),
                    WeightDecay = r.GetValue(weightDecay),
                    Seed = r.GetValue(seed),
                    Distillation = new DistillationOptions { Temperature = r.GetValue(temperature), Alpha = r.GetValue(alpha), HintWeight = r.GetValue(hint) },
                    CropPadding = r.GetValue(crop),
                    HorizontalFlip = !r.GetValue(noFlip),
                    RandomErasing = r.GetValue(erasing),
                    MaxStepsPerEpoch = r.GetValue(maxSteps),
                };
                options.Validate();
                var dataRecord = new DataRecord
                {
                    Dataset = source.Dataset,
                    Source = source with { TrainLimit = r.GetValue(trainLimit) },
                    Labels = trainSet.ClassNames,
                    Mean = statistics.Mean,
                    Std = statistics.Std,
                    TrainCount = trainSet.Count,
                    ValidationCount = validationSet.Count,
                    ValidationSeed = source.ValidationSeed,
                };
                record = new RunRecord(options, dataRecord, "scan-train " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
                folder.Create(record, r.GetValue(force));
            }
            return Train(folder, record, r.GetValue(resume));
        });
        return command;
    }

    public static (ImageDataset Train, ImageDataset Validation, ImageDataset Test) LoadTrain(DataSource source, int? trainLimit)
    {
        var (train, validation, test) = source.LoadSplits();
        if (trainLimit is { } limit && limit < train.Count)
            train = train.Subset(Enumerable.Range(0, limit).ToArray());
        return (train, validation, test);
    }

    private static int Train(RunFolder folder, RunRecord record, bool resume)
    {
        var (train, validation, _) = LoadTrain(record.Data.Source, record.Data.Source.TrainLimit);
        var normalization = new Core.Preprocessing.ChannelNormalization(record.Data.Mean, record.Data.Std);
        Console.WriteLine($"{record.Options.Architecture.Describe()}; {train.Count} training and {validation.Count} validation images of {record.Data.Dataset}");
        var trainer = new ScanTrainer(record.Options, train, validation, normalization);
        var result = ConsoleReporter.WithProgress("train", (report, log) =>
            trainer.Run(folder, resume,
                new Progress<StepProgress>(p => report(((p.Epoch - 1) + (double)p.Step / p.Steps) / p.Epochs, ConsoleReporter.Describe(p))),
                m => log(ConsoleReporter.DescribeEpoch(m))));
        var table = new Table().AddColumns("exit", "validation accuracy");
        var last = result.Metrics[^1];
        for (var k = 0; k < last.ValidationAccuracy.Count; k++) table.AddRow($"{k + 1}", $"{last.ValidationAccuracy[k]:P2}");
        if (last.ValidationEnsembleAccuracy is { } e) table.AddRow("ensemble", $"{e:P2}");
        AnsiConsole.Write(table);
        Console.WriteLine($"done: {result.State.CompletedEpochs} epochs in {TimeSpan.FromSeconds(result.State.ElapsedSeconds):hh\\:mm\\:ss}; best validation accuracy {result.State.BestValidationAccuracy:P2} at epoch {result.State.BestEpoch}; run folder {folder.Root}");
        return 0;
    }
}
