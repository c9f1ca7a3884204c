using ScanService.Core.Preprocessing;
using ScanService.Training.Data;
using ScanService.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Learning;

/// <summary>Every exit's view of a split: per-sample softmax maximum, prediction and the ensemble's prediction.</summary>
public sealed record SplitEvaluation(int SampleCount, int ExitCount, float[] Confidence, int[] Predicted, int[] EnsemblePredicted, int[] Labels)
{
    public double Accuracy(int exit)
    {
        var correct = 0;
        for (var i = 0; i < SampleCount; i++) if (Predicted[i * ExitCount + exit] == Labels[i]) correct++;
        return (double)correct / SampleCount;
    }

    public double EnsembleAccuracy()
    {
        var correct = 0;
        for (var i = 0; i < SampleCount; i++) if (EnsemblePredicted[i] == Labels[i]) correct++;
        return (double)correct / SampleCount;
    }

    public IReadOnlyList<double> Accuracies() => Enumerable.Range(0, ExitCount).Select(Accuracy).ToList();

    public bool[] CorrectFlags()
    {
        var flags = new bool[SampleCount * ExitCount];
        for (var i = 0; i < SampleCount; i++)
            for (var k = 0; k < ExitCount; k++) flags[i * ExitCount + k] = Predicted[i * ExitCount + k] == Labels[i];
        return flags;
    }
}

/// <summary>Runs a network in eval mode over a split, once, recording every exit.</summary>
public static class ExitEvaluator
{
    public static SplitEvaluation Evaluate(ScanNetwork network, ImageDataset samples, ChannelNormalization normalization, int batchSize = 256, IProgress<(int Done, int Total)>? progress = null)
    {
        network.eval();
        using var noGrad = no_grad();
        var exits = network.Heads.Count;
        var n = samples.Count;
        var confidence = new float[n * exits];
        var predicted = new int[n * exits];
        var ensemble = new int[n];
        var labels = samples.Labels.ToArray();
        var batches = new BatchIterator(samples, normalization, batchSize);
        var pixels = new float[batches.ValuesPerBatch];
        var batchLabels = new int[batchSize];
        var order = Enumerable.Range(0, n).ToArray();
        for (var b = 0; b < batches.BatchCount(n); b++)
        {
            var start = b * batchSize;
            var count = batches.Fill(order, b, pixels, batchLabels);
            using var scope = NewDisposeScope();
            var input = tensor(pixels.AsSpan(0, count * samples.SampleSize).ToArray(), [count, samples.Channels, samples.Height, samples.Width]);
            var outputs = network.Forward(input);
            Tensor? sum = null;
            for (var k = 0; k < exits; k++)
            {
                var probs = nn.functional.softmax(outputs[k].Logits, 1);
                var (max, arg) = probs.max(1);
                var maxValues = max.data<float>().ToArray();
                var argValues = arg.data<long>().ToArray();
                for (var i = 0; i < count; i++)
                {
                    confidence[(start + i) * exits + k] = maxValues[i];
                    predicted[(start + i) * exits + k] = (int)argValues[i];
                }
                sum = sum is null ? outputs[k].Logits.alias() : sum + outputs[k].Logits;
            }
            var ensembleArg = sum!.argmax(1).data<long>().ToArray();
            for (var i = 0; i < count; i++) ensemble[start + i] = (int)ensembleArg[i];
            progress?.Report((start + count, n));
        }
        return new SplitEvaluation(n, exits, confidence, predicted, ensemble, labels);
    }
}
