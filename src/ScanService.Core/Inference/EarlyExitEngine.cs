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
    private readonly int[] _featureSizes;
    // The stage-level primitives never terminate a run: a batch holds many requests, and each one's
    // cancellation is handled by dropping its rows, not by stopping the batch.
    private readonly RunOptions _batchRunOptions = new();

    public ModelManifest Manifest => _bundle.Manifest;
    public ExecutionProviderChoice Provider { get; }
    public int ExitCount => _classifiers.Length;
    public int ClassCount => Manifest.Labels.Count;
    public int SampleSize => Manifest.Input.PixelsPerSample;

    private EarlyExitEngine(ModelBundle bundle, ExecutionProviderChoice provider, InferenceSession[] stages, InferenceSession?[] attention, InferenceSession[] classifiers)
    {
        _bundle = bundle;
        Provider = provider;
        _stages = stages;
        _attention = attention;
        _classifiers = classifiers;
        _featureSizes = bundle.Manifest.Stages.Select(st => PerSample(st.Graph.Output.Shape)).ToArray();
        // The monolithic graph is the benchmark's baseline; the service only needs it when asked.
        _monolithic = new Lazy<InferenceSession>(() => Open(bundle, bundle.Manifest.Monolithic, provider), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Opens one session per graph and checks each graph's declared input and output against the manifest.</summary>
    public static EarlyExitEngine Create(ModelBundle bundle, ExecutionProviderChoice provider)
    {
        var opened = new List<InferenceSession>();
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
            return new EarlyExitEngine(bundle, provider, stages, attention, classifiers);
        }
        catch
        {
            foreach (var session in opened) session.Dispose();
            throw;
        }
    }

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
        var current = new PooledTensor(Tensor(new Memory<float>(input, 0, count * SampleSize), count, Manifest.Input.Channels, Manifest.Input.Height, Manifest.Input.Width), null);
        var currentShape = Manifest.Stages[0].Graph.Input.Shape;
        try
        {
            for (var k = 0; k < plan.LastExit; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stageStart = Stopwatch.GetTimestamp();
                var feature = RunSingle(_stages[k], Manifest.Stages[k].Graph, current.Value, alive.Length, runOptions);
                current.Dispose();
                current = feature;
                currentShape = Manifest.Stages[k].Graph.Output.Shape;
                observer?.StageCompleted(k + 1, alive.Length, Stopwatch.GetElapsedTime(stageStart));

                var isLast = k == plan.LastExit - 1;
                if (plan.Mode == ExitMode.FullDepth && !isLast) continue;

                var headStart = Stopwatch.GetTimestamp();
                using var logits = RunExit(k, current.Value, alive.Length, runOptions);
                observer?.ExitHeadCompleted(k + 1, alive.Length, Stopwatch.GetElapsedTime(headStart));
                var survivors = Decide(k, logits.Value.GetTensorDataAsSpan<float>(), alive, plan, results, ensembleSum);
                if (survivors.Length == 0) break;
                if (survivors.Length < alive.Length)
                {
                    var compacted = Compact(current.Value, currentShape, alive, survivors);
                    current.Dispose();
                    current = compacted;
                }
                alive = alive.Where(i => results[i] is null).ToArray();
            }
        }
        finally
        {
            current.Dispose();
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
        using var value = Tensor(new Memory<float>(input, 0, count * SampleSize), count, Manifest.Input.Channels, Manifest.Input.Height, Manifest.Input.Width);
        using var logits = RunSingle(_monolithic.Value, Manifest.Monolithic, value, count, runOptions);
        var span = logits.Value.GetTensorDataAsSpan<float>();
        for (var i = 0; i < count; i++)
        {
            var probabilities = new float[ClassCount];
            var arg = Softmax.Compute(span.Slice(i * ClassCount, ClassCount), probabilities);
            results[i] = new Prediction(arg, probabilities[arg], ExitCount, probabilities);
        }
        return results;
    }

    private void CheckInput(float[] input, int count)
    {
        if (count < 0 || (long)count * SampleSize > input.Length)
            throw new ArgumentException($"{count} samples need {(long)count * SampleSize} values, the buffer has {input.Length}");
    }

    private PooledTensor RunExit(int k, OrtValue feature, int batch, RunOptions runOptions)
    {
        var exit = Manifest.Exits[k];
        if (_attention[k] is not { } attention)
            return RunSingle(_classifiers[k], exit.Classifier, feature, batch, runOptions);
        using var attended = RunSingle(attention, exit.Attention!, feature, batch, runOptions);
        return RunSingle(_classifiers[k], exit.Classifier, attended.Value, batch, runOptions);
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

    /// <summary>Copies the survivors' rows of a feature map into a fresh tensor for the next stage.</summary>
    private static PooledTensor Compact(OrtValue feature, IReadOnlyList<long> shape, int[] alive, int[] survivorRows)
    {
        var source = feature.GetTensorDataAsSpan<float>();
        var rowSize = source.Length / alive.Length;
        var length = survivorRows.Length * rowSize;
        var buffer = ArrayPool<float>.Shared.Rent(length);
        for (var i = 0; i < survivorRows.Length; i++)
            source.Slice(survivorRows[i] * rowSize, rowSize).CopyTo(buffer.AsSpan(i * rowSize, rowSize));
        var dims = shape.ToArray();
        dims[0] = survivorRows.Length;
        return new PooledTensor(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, length), dims), buffer);
    }

    private static OrtValue Tensor(Memory<float> data, params long[] shape) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data, shape);

    /// <summary>
    /// Runs a one-input, one-output graph on <paramref name="batch"/> samples, writing its output straight into a
    /// managed buffer this call owns (ORT fills it in place: no copy, and compaction can read it directly).
    /// </summary>
    private static PooledTensor RunSingle(InferenceSession session, GraphSpec graph, OrtValue input, int batch, RunOptions runOptions)
    {
        var dims = graph.Output.Shape.ToArray();
        dims[0] = batch;
        var length = checked((int)dims.Aggregate(1L, (a, d) => a * d));
        var buffer = ArrayPool<float>.Shared.Rent(length);
        var output = new PooledTensor(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, length), dims), buffer);
        try
        {
            session.Run(runOptions, [graph.Input.Name], [input], [graph.Output.Name], [output.Value]);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A tensor over a buffer rented from the shared pool, returned when the tensor is disposed. A batch's feature
    /// maps are megabytes: a fresh array per graph made every call a large-object allocation, and the gen-2
    /// collections that followed cost more at batch 32 than chaining the graphs did.
    /// </summary>
    private sealed class PooledTensor(OrtValue value, float[]? rented) : IDisposable
    {
        public OrtValue Value => value;

        public void Dispose()
        {
            value.Dispose();
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    // ---- Stage-level primitives: what the dynamic batcher (Batching/) composes across requests. ----

    /// <summary>Floats per sample that stage <paramref name="stage"/> (0-based) reads: the input for stage 0, the previous stage's feature map otherwise.</summary>
    internal int StageInputSize(int stage) => stage == 0 ? SampleSize : _featureSizes[stage - 1];

    /// <summary>Floats per sample of stage <paramref name="stage"/>'s (0-based) feature map.</summary>
    internal int FeatureSize(int stage) => _featureSizes[stage];

    /// <summary>
    /// Runs backbone stage <paramref name="stage"/> (0-based) on <paramref name="count"/> samples laid out
    /// contiguously in <paramref name="input"/> and writes their feature maps into <paramref name="output"/>.
    /// Both are wrapped as tensors in place: no copy.
    /// </summary>
    internal void RunStage(int stage, Memory<float> input, int count, Memory<float> output)
    {
        var graph = Manifest.Stages[stage].Graph;
        using var inputValue = Tensor(input[..(count * StageInputSize(stage))], WithBatch(graph.Input.Shape, count));
        using var outputValue = Tensor(output[..(count * FeatureSize(stage))], WithBatch(graph.Output.Shape, count));
        _stages[stage].Run(_batchRunOptions, [graph.Input.Name], [inputValue], [graph.Output.Name], [outputValue]);
    }

    /// <summary>
    /// Runs exit <paramref name="exit"/>'s (0-based) attention and classifier on the first <paramref name="count"/>
    /// feature maps in <paramref name="feature"/> and writes their logits into <paramref name="logits"/>.
    /// </summary>
    internal void RunExitHead(int exit, Memory<float> feature, int count, Memory<float> logits)
    {
        var spec = Manifest.Exits[exit];
        var stageOutput = Manifest.Stages[exit].Graph.Output.Shape;
        using var featureValue = Tensor(feature[..(count * FeatureSize(exit))], WithBatch(stageOutput, count));
        using var logitsValue = Tensor(logits[..(count * ClassCount)], WithBatch(spec.Classifier.Output.Shape, count));
        if (_attention[exit] is not { } attention)
        {
            _classifiers[exit].Run(_batchRunOptions, [spec.Classifier.Input.Name], [featureValue], [spec.Classifier.Output.Name], [logitsValue]);
            return;
        }
        // The attended map lives only between the two graphs: ORT allocates it from its own arena.
        using var attended = attention.Run(_batchRunOptions, [spec.Attention!.Input.Name], [featureValue], [spec.Attention.Output.Name]);
        _classifiers[exit].Run(_batchRunOptions, [spec.Classifier.Input.Name], [attended[0]], [spec.Classifier.Output.Name], [logitsValue]);
    }

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

    private static int PerSample(IReadOnlyList<long> shape) => checked((int)shape.Skip(1).Aggregate(1L, (a, d) => a * d));

    public void Dispose()
    {
        _batchRunOptions.Dispose();
        foreach (var s in _stages) s.Dispose();
        foreach (var s in _attention) s?.Dispose();
        foreach (var s in _classifiers) s.Dispose();
        if (_monolithic.IsValueCreated) _monolithic.Value.Dispose();
    }
}
