using System.Diagnostics;
using ScanService.Core.Preprocessing;
using ScanService.Training.Data;
using ScanService.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Learning;

/// <summary>Training produced a non-finite loss; nothing of that step was applied or saved.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

public sealed record TrainResult(ScanNetwork Network, IReadOnlyList<EpochMetrics> Metrics, CheckpointState State);

/// <summary>
/// Trains a SCAN network (or the plain baseline) with SGD, checkpointing every epoch. The initial weights come
/// from a generator seeded by the run's seed alone (never torch's global one, which anything else in the process
/// may draw from), and shuffling and augmentation from sources seeded by (seed, epoch), so a resumed run sees
/// exactly the batches an uninterrupted run would have seen and ends with the same weights.
/// </summary>
public sealed class ScanTrainer(TrainOptions options, ImageDataset train, ImageDataset validation, ChannelNormalization normalization)
{
    public TrainOptions Options { get; } = options;

    public TrainResult Run(RunFolder run, bool resume, IProgress<StepProgress>? progress = null, Action<EpochMetrics>? epochCompleted = null, CancellationToken cancellationToken = default)
    {
        Options.Validate();
        CheckShapes(train);
        CheckShapes(validation);
        var network = new ScanNetwork(Options.Architecture);
        network.Initialize(Options.Seed);
        using var optimizer = optim.SGD(network.parameters(), Options.LearningRate, Options.Momentum, weight_decay: Options.WeightDecay);
        var state = new CheckpointState(0, double.NegativeInfinity, 0, 0);
        if (resume)
        {
            run.RecoverInterruptedCheckpoint();
            if (run.HasCheckpoint)
            {
                state = run.ReadState();
                network.load(run.WeightsFile);
                optimizer.load_state_dict(run.OptimizerFile);
            }
            run.TruncateMetrics(state.CompletedEpochs);
        }

        var loss = new ScanLoss(Options.Distillation);
        var sampleSize = train.SampleSize;
        var batch = Options.BatchSize;
        // A last batch of one sample would break BatchNorm's training statistics: it is dropped.
        var batches = new BatchIterator(train, normalization, batch, new Augmentation(Options.CropPadding, Options.HorizontalFlip, Options.RandomErasing), dropPartialBatch: train.Count % batch == 1);
        var pixels = new float[batches.ValuesPerBatch];
        var labels = new int[batch];
        var steps = batches.BatchCount(train.Count);
        if (Options.MaxStepsPerEpoch is { } cap) steps = Math.Min(steps, cap);

        for (var epoch = state.CompletedEpochs + 1; epoch <= Options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = Stopwatch.GetTimestamp();
            var lr = Options.LearningRateAt(epoch - 1, Options.Epochs);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var order = Permutation(train.Count, EpochSeed(epoch, 0));
            var augmentation = new Random(EpochSeed(epoch, 1));

            network.train();
            double lossSum = 0, deepCeSum = 0, ceSum = 0, kdSum = 0, hintSum = 0;
            long seen = 0, correct = 0;
            var clock = new StepClock();
            for (var step = 0; step < steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                clock.Start();
                var count = batches.Fill(order, step, pixels, labels, augmentation);
                using (var scope = NewDisposeScope())
                {
                    var x = tensor(pixels.AsSpan(0, count * sampleSize).ToArray(), [count, train.Channels, train.Height, train.Width]);
                    var y = tensor(labels.AsSpan(0, count).ToArray().Select(l => (long)l).ToArray());
                    clock.Lap(StepPhase.Data);
                    var outputs = network.Forward(x);
                    using var terms = loss.Compute(outputs, y);
                    var stepLoss = terms.Total.item<float>();
                    clock.Lap(StepPhase.Forward);
                    // Stop before a non-finite loss reaches the weights: the checkpoint on disk stays the last good one.
                    if (!float.IsFinite(stepLoss))
                        throw new TrainingDivergedException(
                            $"the loss became {stepLoss} at epoch {epoch}, step {step + 1}; lower --lr, or if the network has 3x3 convolutions of 4 or 8 channels " +
                            "raise --width to 16 or more (libtorch 2.10 on CPU can return NaN input gradients for those)");
                    optimizer.zero_grad();
                    terms.Total.backward();
                    clock.Lap(StepPhase.Backward);
                    optimizer.step();
                    clock.Lap(StepPhase.Optimizer);
                    lossSum += stepLoss * count;
                    deepCeSum += terms.DeepCrossEntropy * count;
                    ceSum += terms.ShallowCrossEntropy * count;
                    kdSum += terms.Distillation * count;
                    hintSum += terms.Hint * count;
                    correct += outputs[^1].Logits.argmax(1).eq(y).sum().item<long>();
                    seen += count;
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    progress?.Report(new StepProgress(epoch, Options.Epochs, step + 1, steps, stepLoss, (double)correct / seen, seen / Math.Max(elapsed, 1e-9)));
                }
                clock.Lap(StepPhase.Other);
            }
            var trainSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

            var evaluation = ExitEvaluator.Evaluate(network, validation, normalization);
            var accuracies = evaluation.Accuracies();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var metrics = new EpochMetrics
            {
                Epoch = epoch,
                LearningRate = lr,
                TrainLoss = lossSum / seen,
                TrainDeepCrossEntropy = deepCeSum / seen,
                TrainCrossEntropy = ceSum / seen,
                TrainDistillation = kdSum / seen,
                TrainHint = hintSum / seen,
                TrainAccuracy = (double)correct / seen,
                ValidationAccuracy = accuracies,
                ValidationEnsembleAccuracy = evaluation.ExitCount > 1 ? evaluation.EnsembleAccuracy() : null,
                Seconds = seconds,
                ImagesPerSecond = seen / trainSeconds,
                StepSeconds = clock.Totals(),
                PeakWorkingSetBytes = Process.GetCurrentProcess().PeakWorkingSet64,
            };

            var deepest = accuracies[^1];
            var improved = deepest > state.BestValidationAccuracy;
            state = new CheckpointState(epoch, improved ? deepest : state.BestValidationAccuracy, improved ? epoch : state.BestEpoch, state.ElapsedSeconds + seconds);
            run.SaveCheckpoint(state, (weights, optimiserFile) =>
            {
                network.save(weights);
                optimizer.save_state_dict(optimiserFile);
            }, improved);
            run.AppendMetrics(metrics);
            epochCompleted?.Invoke(metrics);
        }
        return new TrainResult(network, run.ReadMetrics(), state);
    }

    private void CheckShapes(ImageDataset samples)
    {
        var a = Options.Architecture;
        if (samples.Channels != a.InputChannels || samples.Height != a.InputHeight || samples.Width != a.InputWidth)
            throw new ArgumentException($"the data is {samples.Channels}x{samples.Height}x{samples.Width} but the network expects {a.InputChannels}x{a.InputHeight}x{a.InputWidth}");
        if (samples.Count == 0) throw new ArgumentException("a split is empty");
    }

    /// <summary>Deterministic across processes (unlike HashCode, which is salted per process).</summary>
    private int EpochSeed(int epoch, int stream) => unchecked(Options.Seed * 1_000_003 + epoch * 2 + stream);

    /// <summary>A Fisher-Yates permutation from a seeded source: the same seed gives the same order on every machine.</summary>
    public static int[] Permutation(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    /// <summary>Loads a network saved by a run (its checkpoint or best weights).</summary>
    public static ScanNetwork Load(ScanArchitecture architecture, string weightsFile)
    {
        var network = new ScanNetwork(architecture);
        network.load(weightsFile);
        network.eval();
        return network;
    }
}
