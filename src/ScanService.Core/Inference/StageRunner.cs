using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;
using ScanService.Core.Inference.Features;

namespace ScanService.Core.Inference;

/// <summary>
/// The stage-level steps both ways of running the model are made of: a backbone stage on rows of feature blocks, an
/// exit head (attention and classifier) whose logits come back to host memory, and the compaction of survivors.
/// <see cref="EarlyExitEngine.Run"/> composes them for one batch at a time; the dynamic batcher composes them across
/// requests. Feature maps stay where the store keeps them: on the device under CUDA with device feature memory.
/// </summary>
internal sealed class StageRunner : IDisposable
{
    private readonly BundleSessions _sessions;
    private readonly ModelManifest _manifest;
    private readonly ArrayFeatureStore _arrays;
    private readonly FeatureStore _store;
    private readonly long[][] _featureRowShapes;
    // Runs here never terminate: a batch holds many requests, and each one's cancellation is handled by dropping its
    // rows, not by stopping the batch. The serial loop passes its own, cancellable, options.
    private readonly RunOptions _uncancellable = new();

    public StageRunner(BundleSessions sessions, ModelManifest manifest, DeviceFeatureStore? deviceStore, int fixedBatch = 0)
    {
        if (deviceStore is not null && deviceStore.FixedBatch != fixedBatch)
            throw new ArgumentException("the device store pads to another batch size", nameof(deviceStore));
        _sessions = sessions;
        _manifest = manifest;
        _arrays = new ArrayFeatureStore(fixedBatch);
        _store = (FeatureStore?)deviceStore ?? _arrays;
        FixedBatch = fixedBatch;
        var input = manifest.Input;
        InputRowShape = [input.Channels, input.Height, input.Width];
        _featureRowShapes = manifest.Stages.Select(st => st.Graph.Output.Shape.Skip(1).ToArray()).ToArray();
    }

    /// <summary>Shape of one preprocessed sample (C, H, W): the rows of a request's pixels.</summary>
    public long[] InputRowShape { get; }

    public FeatureMemory FeatureMemory => _store.Kind;

    /// <summary>
    /// The one batch size every graph runs at, 0 for none. ONNX Runtime's CUDA convolutions (cuDNN 9 frontend) build
    /// their execution plans again whenever the input shape differs from their previous call, tens of milliseconds
    /// per graph, so a dynamic batcher whose batch sizes vary runs far slower than one fixed size; with a fixed batch,
    /// smaller batches are padded (the padding rows' outputs are ignored) and larger ones run in parts.
    /// </summary>
    public int FixedBatch { get; }

    public int ClassCount => _manifest.Labels.Count;

    /// <summary>Device blocks allocated and not yet freed (0 with host memory): for tests that look for leaks.</summary>
    public int LiveDeviceBlocks => _store is DeviceFeatureStore device ? device.LiveBlocks : 0;

    /// <summary>
    /// Runs backbone stage <paramref name="stage"/> (0-based) on <paramref name="rows"/> (the pixels for stage 0, the
    /// previous stage's feature rows otherwise) and returns their feature maps, in order, in a new block. Rows that lie
    /// in order in one block run in place; others are gathered first (on the device under CUDA).
    /// </summary>
    public FeatureBlock RunStage(int stage, IReadOnlyList<FeatureRow> rows)
    {
        var first = rows[0];
        var inPlace = true;
        for (var i = 1; i < rows.Count && inPlace; i++)
            inPlace = ReferenceEquals(rows[i].Block, first.Block) && rows[i].Row == first.Row + i;
        if (inPlace) return RunStage(stage, first.Block, first.Row, rows.Count, _uncancellable);
        // A request's pixels are host blocks whatever the store: the first stage gathers them in host memory.
        var store = first.Block.IsHost ? _arrays : _store;
        using var assembled = store.Assemble(rows, stage == 0 ? InputRowShape : _featureRowShapes[stage - 1]);
        return RunStage(stage, assembled, 0, rows.Count, _uncancellable);
    }

    /// <summary>
    /// Runs backbone stage <paramref name="stage"/> (0-based) on rows [first, first + count) of <paramref name="input"/>
    /// into a new block of the store. Both ends are bound in place (IOBinding): on CUDA the input goes to the device
    /// once if it is host memory (the first stage's pixels) and the output stays there.
    /// </summary>
    public FeatureBlock RunStage(int stage, FeatureBlock input, int first, int count, RunOptions? runOptions = null)
    {
        runOptions ??= _uncancellable;
        var output = _store.Allocate(count, _featureRowShapes[stage]);
        try
        {
            foreach (var (start, rows) in Parts(count))
            {
                using var padded = PaddedCopy(input, first + start, rows, stage == 0 ? InputRowShape : _featureRowShapes[stage - 1]);
                var (source, sourceFirst) = padded is null ? (input, first + start) : (padded, 0);
                RunStagePart(stage, source, sourceFirst, output, start, Math.Max(rows, FixedBatch), runOptions);
            }
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private void RunStagePart(int stage, FeatureBlock input, int first, FeatureBlock output, int outputFirst, int count, RunOptions runOptions)
    {
        var graph = _manifest.Stages[stage].Graph;
        using var inputValue = input.View(first, count);
        using var outputValue = output.View(outputFirst, count);
        var stageGraph = _sessions.Stages[stage];
        var session = stageGraph.For(count);
        using var binding = session.CreateIoBinding();
        binding.BindInput(graph.Input.Name, inputValue);
        binding.BindOutput(graph.Output.Name, outputValue);
        Execute(stageGraph, session, binding, runOptions, count);
    }

    private IEnumerable<(int Start, int Rows)> Parts(int count) => Parts(count, FixedBatch);

    /// <summary>
    /// The parts a batch of <paramref name="count"/> rows runs in: (first row, rows) of at most one
    /// <paramref name="fixedBatch"/> each, or the whole batch when it is 0.
    /// </summary>
    internal static IEnumerable<(int Start, int Rows)> Parts(int count, int fixedBatch)
    {
        var part = fixedBatch == 0 ? Math.Max(count, 1) : fixedBatch;
        for (var start = 0; start < count; start += part) yield return (start, Math.Min(part, count - start));
    }

    /// <summary>
    /// Null when a fixed-batch run can bind rows [first, first + rows) of <paramref name="block"/> in place (no fixed
    /// batch, or room for a whole batch from <paramref name="first"/>); otherwise a copy of those rows in a block with
    /// that room, in the block's own kind of memory.
    /// </summary>
    private FeatureBlock? PaddedCopy(FeatureBlock block, int first, int rows, long[] rowShape)
    {
        if (FixedBatch == 0 || block.Capacity >= first + FixedBatch) return null;
        var store = block.IsHost ? _arrays : _store;
        var copy = store.Allocate(rows, rowShape);
        try
        {
            Span<int> indices = rows <= 256 ? stackalloc int[rows] : new int[rows];
            for (var i = 0; i < rows; i++) indices[i] = first + i;
            store.Gather(block, indices, copy, 0);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs exit <paramref name="exit"/>'s (0-based) attention and classifier on the first <paramref name="count"/>
    /// rows of <paramref name="features"/> and writes their logits into <paramref name="logits"/>, the only output that
    /// comes back to host memory. The attended map lives only between the two graphs, where the store keeps features.
    /// </summary>
    public void RunExitHead(int exit, FeatureBlock features, int count, Memory<float> logits, RunOptions? runOptions = null)
    {
        runOptions ??= _uncancellable;
        if (FixedBatch == 0)
        {
            RunExitHeadPart(exit, features, 0, count, logits[..(count * ClassCount)], runOptions);
            return;
        }
        var padded = ArrayPool<float>.Shared.Rent(FixedBatch * ClassCount);
        try
        {
            foreach (var (start, rows) in Parts(count))
            {
                using var copy = PaddedCopy(features, start, rows, _featureRowShapes[exit]);
                var (source, sourceFirst) = copy is null ? (features, start) : (copy, 0);
                RunExitHeadPart(exit, source, sourceFirst, FixedBatch, padded.AsMemory(0, FixedBatch * ClassCount), runOptions);
                padded.AsSpan(0, rows * ClassCount).CopyTo(logits.Span[(start * ClassCount)..]);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
        }
    }

    private void RunExitHeadPart(int exit, FeatureBlock features, int first, int count, Memory<float> logits, RunOptions runOptions)
    {
        var spec = _manifest.Exits[exit];
        var classifierGraph = _sessions.Classifiers[exit];
        var classifierSession = classifierGraph.For(count);
        using var featureValue = features.View(first, count);
        using var logitsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, logits, WithBatch(spec.Classifier.Output.Shape, count));
        using var classifier = classifierSession.CreateIoBinding();
        classifier.BindOutput(spec.Classifier.Output.Name, logitsValue);
        if (_sessions.Attention[exit] is not { } attentionGraph)
        {
            classifier.BindInput(spec.Classifier.Input.Name, featureValue);
            Execute(classifierGraph, classifierSession, classifier, runOptions, count);
            return;
        }
        var attention = attentionGraph.For(count);
        using var attentionBinding = attention.CreateIoBinding();
        attentionBinding.BindInput(spec.Attention!.Input.Name, featureValue);
        attentionBinding.BindOutputToDevice(spec.Attention.Output.Name, _store.OutputLocation);
        Execute(attentionGraph, attention, attentionBinding, runOptions, count);
        using var attended = attentionBinding.GetOutputValues();
        classifier.BindInput(spec.Classifier.Input.Name, attended[0]);
        Execute(classifierGraph, classifierSession, classifier, runOptions, count);
    }

    /// <summary>A block of the store holding the rows of <paramref name="features"/> (stage <paramref name="stage"/>'s output) at <paramref name="survivors"/>.</summary>
    public FeatureBlock Compact(int stage, FeatureBlock features, ReadOnlySpan<int> survivors)
    {
        var compacted = _store.Allocate(survivors.Length, _featureRowShapes[stage]);
        try
        {
            _store.Gather(features, survivors, compacted, 0);
            return compacted;
        }
        catch
        {
            compacted.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs a bound graph. No SynchronizeBoundInputs/Outputs: under CUDA they synchronise the whole device (every
    /// thread's work) and are only needed for memory another CUDA stream wrote or will read. Here every device input
    /// was written by an earlier run, which waited for its stream before returning, a host input is copied when it is
    /// bound, and this run waits for its own stream before it returns.
    /// </summary>
    private void Execute(GraphSession graph, InferenceSession session, OrtIoBinding binding, RunOptions runOptions, int rows)
    {
        session.RunWithBinding(runOptions, binding);
        GraphRan?.Invoke(graph.File, rows, graph.RunsInline(rows));
    }

    /// <summary>
    /// Every stage, attention or classifier run: the graph's file, the rows it was bound to and whether it ran on the
    /// calling thread. For tests of the fixed batch and of inline runs.
    /// </summary>
    internal event Action<string, int, bool>? GraphRan;

    internal static long[] WithBatch(IReadOnlyList<long> shape, int count)
    {
        var dims = shape.ToArray();
        dims[0] = count;
        return dims;
    }

    public void Dispose()
    {
        if (_store != _arrays) _store.Dispose();
        _uncancellable.Dispose();
    }
}
