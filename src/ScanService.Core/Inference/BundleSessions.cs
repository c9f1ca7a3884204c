using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;

namespace ScanService.Core.Inference;

/// <summary>
/// One ONNX Runtime session per graph of a bundle, each checked on opening against what the manifest says its input
/// and output are, so that graphs that do not chain are refused at load and not at the first request. The monolithic
/// graph (the benchmark's baseline) opens on first use.
/// </summary>
internal sealed class BundleSessions : IDisposable
{
    private readonly Lazy<InferenceSession> _monolithic;

    private BundleSessions(InferenceSession[] stages, InferenceSession?[] attention, InferenceSession[] classifiers, Lazy<InferenceSession> monolithic)
    {
        Stages = stages;
        Attention = attention;
        Classifiers = classifiers;
        _monolithic = monolithic;
    }

    public IReadOnlyList<InferenceSession> Stages { get; }
    /// <summary>Per exit; null where the exit has no attention module.</summary>
    public IReadOnlyList<InferenceSession?> Attention { get; }
    public IReadOnlyList<InferenceSession> Classifiers { get; }
    public InferenceSession Monolithic => _monolithic.Value;

    public static BundleSessions Open(ModelBundle bundle, ExecutionProviderChoice provider)
    {
        var opened = new List<InferenceSession>();
        InferenceSession Tracked(GraphSpec graph)
        {
            var session = OpenChecked(bundle, graph, provider);
            opened.Add(session);
            return session;
        }
        try
        {
            var m = bundle.Manifest;
            var stages = m.Stages.Select(s => Tracked(s.Graph)).ToArray();
            var attention = m.Exits.Select(e => e.Attention is null ? null : Tracked(e.Attention)).ToArray();
            var classifiers = m.Exits.Select(e => Tracked(e.Classifier)).ToArray();
            return new BundleSessions(stages, attention, classifiers,
                new Lazy<InferenceSession>(() => OpenChecked(bundle, m.Monolithic, provider), LazyThreadSafetyMode.ExecutionAndPublication));
        }
        catch
        {
            foreach (var session in opened) session.Dispose();
            throw;
        }
    }

    private static InferenceSession OpenChecked(ModelBundle bundle, GraphSpec graph, ExecutionProviderChoice provider)
    {
        InferenceSession session;
        try
        {
            session = OnnxSessions.CreateSession(bundle.PathOf(graph), provider);
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

    public void Dispose()
    {
        foreach (var s in Stages) s.Dispose();
        foreach (var s in Attention) s?.Dispose();
        foreach (var s in Classifiers) s.Dispose();
        if (_monolithic.IsValueCreated) _monolithic.Value.Dispose();
    }
}
