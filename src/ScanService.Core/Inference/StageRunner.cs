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
    private readonly ArrayFeatureStore _arrays = new();
    private readonly FeatureStore _store;
    private readonly long[][] _featureRowShapes;
    // Runs here never terminate: a batch holds many requests, and each one's cancellation is handled by dropping its
    // rows, not by stopping the batch. The serial loop passes its own, cancellable, options.
    private readonly RunOptions _uncancellable = new();

    public StageRunner(BundleSessions sessions, ModelManifest manifest, DeviceFeatureStore? deviceStore)
    {
        _sessions = sessions;
        _manifest = manifest;
        _store = (FeatureStore?)deviceStore ?? _arrays;
        var input = manifest.Input;
        InputRowShape = [input.Channels, input.Height, input.Width];
        _featureRowShapes = manifest.Stages.Select(st => st.Graph.Output.Shape.Skip(1).ToArray()).ToArray();
    }

    /// <summary>Shape of one preprocessed sample (C, H, W): the rows of a request's pixels.</summary>
    public long[] InputRowShape { get; }

    public FeatureMemory FeatureMemory => _store.Kind;

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
        var graph = _manifest.Stages[stage].Graph;
        var output = _store.Allocate(count, _featureRowShapes[stage]);
        try
        {
            using var inputValue = input.View(first, count);
            using var outputValue = output.View(0, count);
            using var binding = _sessions.Stages[stage].CreateIoBinding();
            binding.BindInput(graph.Input.Name, inputValue);
            binding.BindOutput(graph.Output.Name, outputValue);
            Execute(_sessions.Stages[stage], binding, runOptions ?? _uncancellable);
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
    public void RunExitHead(int exit, FeatureBlock features, int count, Memory<float> logits, RunOptions? runOptions = null)
    {
        runOptions ??= _uncancellable;
        var spec = _manifest.Exits[exit];
        var classifierSession = _sessions.Classifiers[exit];
        using var featureValue = features.View(0, count);
        using var logitsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, logits[..(count * ClassCount)], WithBatch(spec.Classifier.Output.Shape, count));
        using var classifier = classifierSession.CreateIoBinding();
        classifier.BindOutput(spec.Classifier.Output.Name, logitsValue);
        if (_sessions.Attention[exit] is not { } attention)
        {
            classifier.BindInput(spec.Classifier.Input.Name, featureValue);
            Execute(classifierSession, classifier, runOptions);
            return;
        }
        using var attentionBinding = attention.CreateIoBinding();
        attentionBinding.BindInput(spec.Attention!.Input.Name, featureValue);
        attentionBinding.BindOutputToDevice(spec.Attention.Output.Name, _store.OutputLocation);
        Execute(attention, attentionBinding, runOptions);
        using var attended = attentionBinding.GetOutputValues();
        classifier.BindInput(spec.Classifier.Input.Name, attended[0]);
        Execute(classifierSession, classifier, runOptions);
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
    private static void Execute(InferenceSession session, OrtIoBinding binding, RunOptions runOptions) =>
        session.RunWithBinding(runOptions, binding);

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
