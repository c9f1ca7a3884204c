using System.Buffers;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;

namespace ScanService.Core.Inference;

/// <summary>
/// Chains a bundle's graphs and lets every sample leave at the first exit confident enough. Per batch: run
/// stage k on the samples still alive, run exit k's attention and head, let each sample whose softmax maximum
/// reaches θ_k leave with its answer, compact the survivors and go on. No work is spent on samples that left.
/// Thread-safe: sessions are shared and every call keeps its own state.
/// </summary>
public sealed class EarlyExitEngine : IDisposable
{
    private readonly InferenceSession[] _stages;
    private readonly InferenceSession?[] _attention;
    private readonly InferenceSession[] _classifiers;
    private readonly Lazy<InferenceSession> _monolithic;
    private readonly ModelBundle _bundle;
    private readonly long[] _inputRowShape;
    private readonly long[][] _featureRowShapes;
    private readonly HostFeatureStore _host = new();
    private readonly FeatureStore _store;
    // The stage-level primitives never terminate a run: a batch holds many requests, and each one's
    // cancellation is handled by dropping its rows, not by stopping the batch.
    private readonly RunOptions _batchRunOptions = new();

    public ModelManifest Manifest => _bundle.Manifest;
    public ExecutionProviderChoice Provider { get; }
    public int ExitCount => _classifiers.Length;
    public int ClassCount => Manifest.Labels.Count;
    public int SampleSize => Manifest.Input.PixelsPerSample;
    /// <summary>Where feature maps live between graphs (<see cref="FeatureMemory.Host"/> or <see cref="FeatureMemory.Device"/>).</summary>
    public FeatureMemory FeatureMemory => _store.Kind;
    /// <summary>Why the feature maps live where they do: for the log.</summary>
    public string FeatureMemoryReason { get; }

    private EarlyExitEngine(ModelBundle bundle, ExecutionProviderChoice provider, InferenceSession[] stages, InferenceSession?[] attention, InferenceSession[] classifiers, DeviceFeatureStore? deviceStore, string featureMemoryReason)
    {
        _bundle = bundle;
        Provider = provider;
        _stages = stages;
        _attention = attention;
        _classifiers = classifiers;
        var input = bundle.Manifest.Input;
        _inputRowShape = [input.Channels, input.Height, input.Width];
        _featureRowShapes = bundle.Manifest.Stages.Select(st => st.Graph.Output.Shape.Skip(1).ToArray()).ToArray();
        _store = (FeatureStore?)deviceStore ?? _host;
        FeatureMemoryReason = featureMemoryReason;
        // The monolithic graph is the benchmark's baseline; the service only needs it when asked.
        _monolithic = new Lazy<InferenceSession>(() => Open(bundle, bundle.Manifest.Monolithic, provider), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Opens one session per graph and checks each graph's declared input and output against the manifest.
    /// <paramref name="featureMemory"/> says where feature maps live between graphs; <see cref="FeatureMemory.Auto"/>
    /// keeps them on the device under CUDA and in pooled host arrays under CPU.
    /// </summary>
    public static EarlyExitEngine Create(ModelBundle bundle, ExecutionProviderChoice provider, FeatureMemory featureMemory = FeatureMemory.Auto)
    {
        var opened = new List<InferenceSession>();
        DeviceFeatureStore? deviceStore = null;
        InferenceSession OpenTracked(GraphSpec graph)
        {
            var session = Open(bundle, graph, provider);
            opened.Add(session);
            return session;
        }
        try
        {
            var m = bundle.Manifest;
            var stages = m.Stages.Select(s => OpenTracked(s.Graph)).ToArray();
            var attention = m.Exits.Select(e => e.Attention is null ? null : OpenTracked(e.Attention)).ToArray();
            var classifiers = m.Exits.Select(e => OpenTracked(e.Classifier)).ToArray();
            deviceStore = ChooseDeviceStore(m, provider, featureMemory, out var reason);
            return new EarlyExitEngine(bundle, provider, stages, attention, classifiers, deviceStore, reason);
        }
        catch
        {
            deviceStore?.Dispose();
            foreach (var session in opened) session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The device store when feature maps are to live in the provider's memory, or null for host arrays; and why.
    /// Auto never costs the service its model: where device blocks cannot be had, host arrays still work.
    /// </summary>
    private static DeviceFeatureStore? ChooseDeviceStore(ModelManifest manifest, ExecutionProviderChoice provider, FeatureMemory featureMemory, out string reason)
    {
        var unaligned = FirstUnalignedRow(manifest);
        switch (featureMemory)
        {
            case FeatureMemory.Host:
                reason = "host memory requested";
                return null;
            case FeatureMemory.Device when unaligned is not null:
                throw new InvalidOperationException($"device feature memory needs feature rows of a multiple of 16 bytes: {unaligned}");
            case FeatureMemory.Device:
                try
                {
                    reason = "device memory requested";
                    return DeviceFeatureStore.Create(provider);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new InvalidOperationException($"device feature memory could not be set up: {OnnxRuntimeHost.FirstLine(e.Message)}", e);
                }
            case FeatureMemory.Auto when !provider.IsCuda:
                reason = "the CPU provider reads host arrays in place";
                return null;
            case FeatureMemory.Auto when unaligned is not null:
                reason = $"CUDA, but {unaligned}: views at row offsets would not be 16-byte aligned; features go through host memory";
                return null;
            default:
                try
                {
                    reason = "CUDA: features stay on the device, only logits come back";
                    return DeviceFeatureStore.Create(provider);
                }
                catch (OnnxRuntimeException e)
                {
                    reason = $"CUDA device memory could not be set up ({OnnxRuntimeHost.FirstLine(e.Message)}); features go through host memory";
                    return null;
                }
        }
    }

    /// <summary>
    /// The first stage whose feature rows are not a multiple of 16 bytes, described, or null. Batches run on views that
    /// start at any row of a block, and device kernels may need 16-byte-aligned pointers; the blocks themselves are.
    /// </summary>
    private static string? FirstUnalignedRow(ModelManifest manifest) =>
        manifest.Stages.Select((s, k) => (Stage: k + 1, Bytes: FeatureBlock.Elements(s.Graph.Output.Shape.Skip(1)) * sizeof(float)))
            .Where(r => r.Bytes % 16 != 0)
            .Select(r => $"stage {r.Stage}'s rows are {r.Bytes} bytes")
            .FirstOrDefault();

    private static InferenceSession Open(ModelBundle bundle, GraphSpec graph, ExecutionProviderChoice provider)
    {
        InferenceSession session;
        try
        {
            session = OnnxRuntimeHost.CreateSession(bundle.PathOf(graph), provider);
        }
        catch (OnnxRuntimeException e)
        {
            throw new BundleValidationException(BundleProblem.InvalidManifest, $"graph '{graph.File}' cannot be loaded by ONNX Runtime: {e.Message}", e);
        }
        try
        {
            CheckBoundary(graph.File, "input", graph.Input, session.InputMetadata);
            CheckBoundary(graph.File, "output", graph.Output, session.OutputMetadata);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static void CheckBoundary(string file, string kind, TensorSpec expected, IReadOnlyDictionary<string, NodeMetadata> actual)
    {
        if (actual.Count != 1 || !actual.TryGetValue(expected.Name, out var meta))
            throw new BundleValidationException(BundleProblem.GraphsDoNotChain,
                $"graph '{file}' has {kind} {string.Join(", ", actual.Keys)}; the manifest says '{expected.Name}'");
        var dims = meta.Dimensions.Select(d => (long)d).ToArray();
        if (!dims.Skip(1).SequenceEqual(expected.Shape.Skip(1)) || dims.Length != expected.Shape.Count)
            throw new BundleValidationException(BundleProblem.GraphsDoNotChain,
                $"graph '{file}' {kind} '{expected.Name}' has shape [{string.Join(',', dims)}]; the manifest says [{string.Join(',', expected.Shape)}]");
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

        var never = Enumerable.Repeat(float.PositiveInfinity, ExitCount).ToArray();
        if (options.FullDepth) return new ExitPlan(ExitMode.FullDepth, never, last, null);
        if (options.Ensemble) return new ExitPlan(ExitMode.Ensemble, never, last, null);

        var name = options.OperatingPoint ?? m.DefaultOperatingPoint;
        if (name is null)
            return new ExitPlan(ExitMode.EarlyExit, never, last, null);
        var point = m.FindOperatingPoint(name)
            ?? throw new InvalidInferenceOptionsException(
                $"unknown operating point '{name}'; this model has {(m.OperatingPoints.Count == 0 ? "none" : string.Join(", ", m.OperatingPoints.Select(p => p.Name)))}");
        return new ExitPlan(ExitMode.EarlyExit, point.Thresholds.ToArray(), last, point.Name);
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
        var current = FeatureBlock.OverArray(input, 0, count, _inputRowShape);
        var logits = ArrayPool<float>.Shared.Rent(count * ClassCount);
        try
        {
            for (var k = 0; k < plan.LastExit; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stageStart = Stopwatch.GetTimestamp();
                var feature = RunStage(k, current, 0, alive.Length, runOptions);
                current.Dispose();
                current = feature;
                observer?.StageCompleted(k + 1, alive.Length, Stopwatch.GetElapsedTime(stageStart));

                var isLast = k == plan.LastExit - 1;
                if (plan.Mode == ExitMode.FullDepth && !isLast) continue;

                var headStart = Stopwatch.GetTimestamp();
                var rows = logits.AsMemory(0, alive.Length * ClassCount);
                RunExitHead(k, current, alive.Length, rows, runOptions);
                observer?.ExitHeadCompleted(k + 1, alive.Length, Stopwatch.GetElapsedTime(headStart));
                var survivors = Decide(k, rows.Span, alive, plan, results, ensembleSum);
                if (survivors.Length == 0) break;
                if (survivors.Length < alive.Length)
                {
                    // Compaction stays where the features are: on the device under CUDA.
                    var compacted = _store.Allocate(survivors.Length, _featureRowShapes[k]);
                    try
                    {
                        _store.Gather(current, survivors, compacted, 0);
                    }
                    catch
                    {
                        compacted.Dispose();
                        throw;
                    }
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
        using (var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(input, 0, count * SampleSize), [count, .. _inputRowShape]))
        using (var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, logits.AsMemory(), WithBatch(graph.Output.Shape, count)))
            _monolithic.Value.Run(runOptions, [graph.Input.Name], [value], [graph.Output.Name], [output]);
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
            if (DecideSample(k, logits.Slice(row * classes, classes), plan, sum) is { } answer)
                results[sample] = answer;
            else
                survivors.Add(row);
        }
        return survivors.ToArray();
    }

    /// <summary>
    /// Runs backbone stage <paramref name="stage"/> (0-based) on rows [first, first + count) of <paramref name="input"/>
    /// into a new block of the store. Both ends are bound in place (IOBinding): on CUDA the input goes to the device
    /// once if it is host memory (the first stage's pixels) and the output stays there.
    /// </summary>
    private FeatureBlock RunStage(int stage, FeatureBlock input, int first, int count, RunOptions runOptions)
    {
        var graph = Manifest.Stages[stage].Graph;
        var output = _store.Allocate(count, _featureRowShapes[stage]);
        try
        {
            using var inputValue = input.View(first, count);
            using var outputValue = output.View(0, count);
            using var binding = _stages[stage].CreateIoBinding();
            binding.BindInput(graph.Input.Name, inputValue);
            binding.BindOutput(graph.Output.Name, outputValue);
            Execute(_stages[stage], binding, runOptions);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs exit <paramref name="exit"/>'s (0-based) attention and classifier on the first <paramref name="count"/>
    /// rows of <paramref name="features"/> and writes their logits into <paramref name="logits"/>, the only output that
    /// comes back to host memory. The attended map lives only between the two graphs, where the store keeps features.
    /// </summary>
    private void RunExitHead(int exit, FeatureBlock features, int count, Memory<float> logits, RunOptions runOptions)
    {
        var spec = Manifest.Exits[exit];
        using var featureValue = features.View(0, count);
        using var logitsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, logits[..(count * ClassCount)], WithBatch(spec.Classifier.Output.Shape, count));
        using var classifier = _classifiers[exit].CreateIoBinding();
        classifier.BindOutput(spec.Classifier.Output.Name, logitsValue);
        if (_attention[exit] is not { } attention)
        {
            classifier.BindInput(spec.Classifier.Input.Name, featureValue);
            Execute(_classifiers[exit], classifier, runOptions);
            return;
        }
        using var attentionBinding = attention.CreateIoBinding();
        attentionBinding.BindInput(spec.Attention!.Input.Name, featureValue);
        attentionBinding.BindOutputToDevice(spec.Attention.Output.Name, _store.OutputLocation);
        Execute(attention, attentionBinding, runOptions);
        using var attended = attentionBinding.GetOutputValues();
        classifier.BindInput(spec.Classifier.Input.Name, attended[0]);
        Execute(_classifiers[exit], classifier, runOptions);
    }

    /// <summary>
    /// Runs a bound graph. No SynchronizeBoundInputs/Outputs: under CUDA they synchronise the whole device (every
    /// thread's work) and are only needed for memory another CUDA stream wrote or will read. Here every device input
    /// was written by an earlier run, which waited for its stream before returning, a host input is copied when it is
    /// bound, and this run waits for its own stream before it returns.
    /// </summary>
    private static void Execute(InferenceSession session, OrtIoBinding binding, RunOptions runOptions) =>
        session.RunWithBinding(runOptions, binding);

    // ---- Stage-level primitives: what the dynamic batcher (Batching/) composes across requests. ----

    /// <summary>Device blocks allocated and not yet freed (0 with host memory): for tests that look for leaks.</summary>
    internal int LiveDeviceBlocks => _store is DeviceFeatureStore device ? device.LiveBlocks : 0;

    /// <summary>Shape of one preprocessed sample (C, H, W): the rows of a request's pixels.</summary>
    internal long[] InputRowShape => _inputRowShape;

    /// <summary>
    /// Runs backbone stage <paramref name="stage"/> (0-based) on <paramref name="rows"/> (the pixels for stage 0, the
    /// previous stage's feature rows otherwise) and returns their feature maps, in order, in a new block. Rows that lie
    /// in order in one block run in place; others are gathered first (on the device under CUDA).
    /// </summary>
    internal FeatureBlock RunStage(int stage, IReadOnlyList<FeatureRow> rows)
    {
        var first = rows[0];
        var inPlace = true;
        for (var i = 1; i < rows.Count && inPlace; i++)
            inPlace = ReferenceEquals(rows[i].Block, first.Block) && rows[i].Row == first.Row + i;
        if (inPlace) return RunStage(stage, first.Block, first.Row, rows.Count, _batchRunOptions);
        // A request's pixels are host blocks whatever the store: the first stage gathers them in host memory.
        var store = first.Block.IsHost ? _host : _store;
        using var assembled = store.Assemble(rows, stage == 0 ? _inputRowShape : _featureRowShapes[stage - 1]);
        return RunStage(stage, assembled, 0, rows.Count, _batchRunOptions);
    }

    /// <summary>Runs exit <paramref name="exit"/>'s (0-based) head on the first <paramref name="count"/> rows of <paramref name="features"/>; logits to host memory.</summary>
    internal void RunExitHead(int exit, FeatureBlock features, int count, Memory<float> logits) =>
        RunExitHead(exit, features, count, logits, _batchRunOptions);

    /// <summary>Whether a sample under <paramref name="plan"/> needs exit <paramref name="exit"/>'s (0-based) head: full depth runs only the last allowed one.</summary>
    internal static bool NeedsHead(ExitPlan plan, int exit) =>
        exit < plan.LastExit && (plan.Mode != ExitMode.FullDepth || exit == plan.LastExit - 1);

    /// <summary>
    /// One sample's decision at exit <paramref name="exit"/> (0-based), given that exit's logits: its answer when it
    /// leaves here, null when it goes on. Under the ensemble, <paramref name="ensembleSum"/> (one value per class,
    /// kept by the caller across exits) accumulates the logits. <see cref="Run"/> decides through this too.
    /// </summary>
    internal Prediction? DecideSample(int exit, ReadOnlySpan<float> logits, ExitPlan plan, Span<float> ensembleSum)
    {
        var isLast = exit == plan.LastExit - 1;
        if (plan.Mode == ExitMode.Ensemble)
        {
            for (var c = 0; c < logits.Length; c++) ensembleSum[c] += logits[c];
            if (!isLast) return null;
            for (var c = 0; c < logits.Length; c++) ensembleSum[c] /= plan.LastExit;
            logits = ensembleSum;
        }
        Span<float> probabilities = stackalloc float[logits.Length];
        var arg = Softmax.Compute(logits, probabilities);
        return isLast || probabilities[arg] >= plan.Thresholds[exit]
            ? new Prediction(arg, probabilities[arg], exit + 1, probabilities.ToArray())
            : null;
    }

    private static long[] WithBatch(IReadOnlyList<long> shape, int count)
    {
        var dims = shape.ToArray();
        dims[0] = count;
        return dims;
    }

    public void Dispose()
    {
        if (_store != _host) _store.Dispose();
        _batchRunOptions.Dispose();
        foreach (var s in _stages) s.Dispose();
        foreach (var s in _attention) s?.Dispose();
        foreach (var s in _classifiers) s.Dispose();
        if (_monolithic.IsValueCreated) _monolithic.Value.Dispose();
    }
}
