using System.Buffers;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;
using ScanService.Core.Inference.Features;

namespace ScanService.Core.Inference;

/// <summary>
/// Chains a bundle's graphs and lets every sample leave at the first exit confident enough. Per batch: run
/// stage k on the samples still alive, run exit k's attention and head, let each sample whose softmax maximum
/// reaches θ_k leave with its answer, compact the survivors and go on. No work is spent on samples that left.
/// Thread-safe: sessions are shared and every call keeps its own state.
/// </summary>
public sealed class EarlyExitEngine : IDisposable
{
    private readonly BundleSessions _sessions;
    private readonly ModelBundle _bundle;

    public ModelManifest Manifest => _bundle.Manifest;
    public ExecutionProviderChoice Provider { get; }
    public int ExitCount => Manifest.Exits.Count;
    public int ClassCount => Manifest.Labels.Count;
    public int SampleSize => Manifest.Input.PixelsPerSample;
    /// <summary>Where feature maps live between graphs (<see cref="FeatureMemory.Host"/> or <see cref="FeatureMemory.Device"/>).</summary>
    public FeatureMemory FeatureMemory => Stages.FeatureMemory;
    /// <summary>Why the feature maps live where they do: for the log.</summary>
    public string FeatureMemoryReason { get; }

    /// <summary>
    /// The one batch size every graph runs at (smaller batches padded, larger ones in parts), or 0 when each graph runs
    /// at the batch it is given. For the CUDA provider, whose convolutions are planned again at every change of input
    /// shape (<see cref="StageRunner.FixedBatch"/>); answers are the same either way.
    /// </summary>
    public int FixedBatch => Stages.FixedBatch;

    /// <summary>
    /// Runs of at most this many multiply-adds stay on the calling thread, in each graph's second session, instead of
    /// waking the shared intra-op pool; 0 when every run uses the pool (always under CUDA). See <see cref="Create"/>.
    /// </summary>
    public long InlineMaxMultiplyAdds => _sessions.InlineMaxMultiplyAdds;

    /// <summary>Per graph of the chain (its file, in running order), the largest run that stays on the calling thread; 0 where none does.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> InlineMaxRows =>
        _sessions.Chain.Select(g => KeyValuePair.Create(g.File, g.InlineMaxRows)).ToArray();

    /// <summary>Where runs go, for a log line: the budget and each graph's row limit, or that every run uses the pool.</summary>
    public string DescribeInlineRuns() =>
        InlineMaxMultiplyAdds == 0
            ? "every run on the shared pool"
            : FormattableString.Invariant($"runs of up to {InlineMaxMultiplyAdds:N0} multiply-adds on the calling thread (rows: ")
              + string.Join(", ", InlineMaxRows.Select(g => $"{Path.GetFileNameWithoutExtension(g.Key)} {g.Value}")) + ")";

    /// <summary>
    /// The default of <see cref="Create"/>'s <c>inlineMaxMultiplyAdds</c>, and the service's: on the 2-core benchmark
    /// machine runs up to 8-10 million multiply-adds were faster inline, at widths 16 and 64 alike.
    /// </summary>
    public const long DefaultInlineMaxMultiplyAdds = 9_000_000;

    /// <summary>The stage-level steps, for the dynamic batcher, which composes them across requests.</summary>
    internal StageRunner Stages { get; }

    private EarlyExitEngine(ModelBundle bundle, ExecutionProviderChoice provider, BundleSessions sessions, StageRunner stages, string featureMemoryReason)
    {
        _bundle = bundle;
        Provider = provider;
        _sessions = sessions;
        Stages = stages;
        FeatureMemoryReason = featureMemoryReason;
    }

    /// <summary>
    /// Opens the sessions of every graph and checks each graph's declared input and output against the manifest.
    /// <paramref name="featureMemory"/> says where feature maps live between graphs; <see cref="FeatureMemory.Auto"/>
    /// keeps them on the device under CUDA and in pooled host arrays under CPU. <paramref name="fixedBatch"/>, when not
    /// 0, is the one batch size every graph runs at (see <see cref="FixedBatch"/>). On the CPU provider, a run whose rows
    /// times its graph's multiply-adds per image are at most <paramref name="inlineMaxMultiplyAdds"/> stays on the
    /// calling thread, in a second session of the graph (0: one session per graph, every run on the shared pool),
    /// because the pool's wake-ups cost more than they save on small runs; answers do not depend on it.
    /// </summary>
    public static EarlyExitEngine Create(ModelBundle bundle, ExecutionProviderChoice provider, FeatureMemory featureMemory = FeatureMemory.Auto, int fixedBatch = 0, long inlineMaxMultiplyAdds = DefaultInlineMaxMultiplyAdds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fixedBatch);
        var sessions = BundleSessions.Open(bundle, provider, inlineMaxMultiplyAdds);
        try
        {
            var deviceStore = FeatureStore.ChooseDevice(bundle.Manifest, provider, featureMemory, fixedBatch, out var reason);
            return new EarlyExitEngine(bundle, provider, sessions, new StageRunner(sessions, bundle.Manifest, deviceStore, fixedBatch), reason);
        }
        catch
        {
            sessions.Dispose();
            throw;
        }
    }

    /// <summary>Turns request options into a plan, or says which option does not fit this model.</summary>
    public ExitPlan Resolve(InferenceOptions options)
    {
        var m = Manifest;
        var last = ExitCount;
        if (options.MaxExit is { } maxExit)
        {
            if (maxExit < 1 || maxExit > ExitCount)
                throw new InvalidInferenceOptionsException($"maxExit must be between 1 and {ExitCount}, got {maxExit}");
            last = maxExit;
        }
        if (options.FullDepth && options.Ensemble)
            throw new InvalidInferenceOptionsException("fullDepth and ensemble cannot be combined");
        if (options.OperatingPoint is { } given)
        {
            // An operating point's thresholds only decide in early-exit mode: silently ignoring one would answer
            // something other than what the caller asked for.
            if (options.FullDepth || options.Ensemble)
                throw new InvalidInferenceOptionsException(
                    $"operatingPoint '{given}' cannot be combined with {(options.FullDepth ? "fullDepth" : "ensemble")}, which do not exit early; send one or the other");
        }

        var never = Enumerable.Repeat(ExitRule.NeverExit, ExitCount).ToArray();
        if (options.FullDepth) return new ExitPlan(ExitMode.FullDepth, never, last, null);
        if (options.Ensemble) return new ExitPlan(ExitMode.Ensemble, never, last, null);

        var name = options.OperatingPoint ?? m.DefaultOperatingPoint;
        if (name is null)
            return new ExitPlan(ExitMode.EarlyExit, never, last, null);
        var point = m.FindOperatingPoint(name)
            ?? throw new InvalidInferenceOptionsException(
                $"unknown operating point '{name}'; this model has {(m.OperatingPoints.Count == 0 ? "none" : string.Join(", ", m.OperatingPoints.Select(p => p.Name)))}"
                  + (m.ParetoFront.Count == 0 ? "" : $" and the points of its front, {m.ParetoFront[0].Name} to {m.ParetoFront[^1].Name}"));
        return new ExitPlan(ExitMode.EarlyExit, point.Thresholds.ToArray(), last, point.Name);
    }

    /// <summary>
    /// Runs every stage and head once at each batch size from 1 to <paramref name="maxBatchSize"/> on blank images (at
    /// the fixed batch alone, when there is one: no other shape reaches a graph), so that what an execution provider
    /// does at the first input of a shape (the CUDA provider's cuDNN plans, kernel loading, arena growth) happens before
    /// the model serves rather than in the first requests of each size.
    /// </summary>
    public void WarmUp(int maxBatchSize, IInferenceObserver? observer = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        var plan = Resolve(new InferenceOptions { Ensemble = true });
        var blank = new float[maxBatchSize * SampleSize];
        if (FixedBatch > 0)
        {
            Run(blank, Math.Min(FixedBatch, maxBatchSize), plan, observer, cancellationToken);
            return;
        }
        for (var count = 1; count <= maxBatchSize; count++)
            Run(blank, count, plan, observer, cancellationToken);
    }

    /// <summary>Classifies <paramref name="count"/> preprocessed samples laid out N×C×H×W in <paramref name="input"/>; answers in input order.</summary>
    public Prediction[] Run(float[] input, int count, ExitPlan plan, IInferenceObserver? observer = null, CancellationToken cancellationToken = default)
    {
        CheckInput(input, count);
        var results = new Prediction[count];
        if (count == 0) return results;

        var alive = Enumerable.Range(0, count).ToArray();
        var ensembleSum = plan.Mode == ExitMode.Ensemble ? new float[count * ClassCount] : null;
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        var current = FeatureBlock.OverArray(input, 0, count, Stages.InputRowShape);
        var logits = ArrayPool<float>.Shared.Rent(count * ClassCount);
        try
        {
            for (var k = 0; k < plan.LastExit; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stageStart = Stopwatch.GetTimestamp();
                var feature = Stages.RunStage(k, current, 0, alive.Length, runOptions);
                current.Dispose();
                current = feature;
                observer?.StageCompleted(k + 1, alive.Length, Stopwatch.GetElapsedTime(stageStart));

                // Full depth runs only the last head; early exit skips the heads of exits its thresholds switch off.
                if (!ExitRule.NeedsHead(plan, k)) continue;

                var headStart = Stopwatch.GetTimestamp();
                var rows = logits.AsMemory(0, alive.Length * ClassCount);
                Stages.RunExitHead(k, current, alive.Length, rows, runOptions);
                observer?.ExitHeadCompleted(k + 1, alive.Length, Stopwatch.GetElapsedTime(headStart));
                var survivors = Decide(k, rows.Span, alive, plan, results, ensembleSum);
                if (survivors.Length == 0) break;
                if (survivors.Length < alive.Length)
                {
                    // Compaction stays where the features are: on the device under CUDA.
                    var compacted = Stages.Compact(k, current, survivors);
                    current.Dispose();
                    current = compacted;
                }
                alive = alive.Where(i => results[i] is null).ToArray();
            }
        }
        finally
        {
            current.Dispose();
            ArrayPool<float>.Shared.Return(logits);
        }
        return results;
    }

    /// <summary>Runs the monolithic full-depth graph: the baseline a user would otherwise serve.</summary>
    public Prediction[] RunMonolithic(float[] input, int count, CancellationToken cancellationToken = default)
    {
        CheckInput(input, count);
        var results = new Prediction[count];
        if (count == 0) return results;
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        var graph = Manifest.Monolithic;
        var logits = new float[count * ClassCount];
        // With a fixed batch the monolithic graph, too, runs at that size only (padded, or in parts), like the chain.
        var part = FixedBatch == 0 ? count : FixedBatch;
        var padded = FixedBatch == 0 ? null : new float[FixedBatch * SampleSize];
        var paddedLogits = FixedBatch == 0 ? logits : new float[FixedBatch * ClassCount];
        foreach (var (start, rows) in StageRunner.Parts(count, FixedBatch))
        {
            var pixels = new Memory<float>(input, start * SampleSize, rows * SampleSize);
            if (padded is not null)
            {
                pixels.CopyTo(padded);
                pixels = padded;
            }
            using (var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels, [part, .. Stages.InputRowShape]))
            using (var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, paddedLogits.AsMemory(0, part * ClassCount), StageRunner.WithBatch(graph.Output.Shape, part)))
                _sessions.Monolithic.For(part).Run(runOptions, [graph.Input.Name], [value], [graph.Output.Name], [output]);
            if (padded is not null) paddedLogits.AsSpan(0, rows * ClassCount).CopyTo(logits.AsSpan(start * ClassCount));
        }
        for (var i = 0; i < count; i++)
        {
            var probabilities = new float[ClassCount];
            var arg = Softmax.Compute(logits.AsSpan(i * ClassCount, ClassCount), probabilities);
            results[i] = new Prediction(arg, probabilities[arg], ExitCount, probabilities);
        }
        return results;
    }

    private void CheckInput(float[] input, int count)
    {
        if (count < 0 || (long)count * SampleSize > input.Length)
            throw new ArgumentException($"{count} samples need {(long)count * SampleSize} values, the buffer has {input.Length}");
    }

    /// <summary>Records the answer of every sample that leaves at exit k and returns the survivors' positions in the batch.</summary>
    private int[] Decide(int k, ReadOnlySpan<float> logits, int[] alive, ExitPlan plan, Prediction[] results, float[]? ensembleSum)
    {
        var classes = ClassCount;
        var survivors = new List<int>(alive.Length);
        for (var row = 0; row < alive.Length; row++)
        {
            var sample = alive[row];
            var sum = ensembleSum is null ? Span<float>.Empty : ensembleSum.AsSpan(sample * classes, classes);
            if (ExitRule.Decide(k, logits.Slice(row * classes, classes), plan, sum) is { } answer)
                results[sample] = answer;
            else
                survivors.Add(row);
        }
        return survivors.ToArray();
    }

    public void Dispose()
    {
        Stages.Dispose();
        _sessions.Dispose();
    }
}
