using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;

namespace ScanService.Core.Inference;

/// <summary>
/// The sessions of every graph of a bundle (<see cref="GraphSession"/>: pooled, and on CPU inline for small runs), each
/// checked on opening against what the manifest says its input and output are, so that graphs that do not chain are
/// refused at load and not at the first request. The monolithic graph (the benchmark's baseline) opens on first use.
/// </summary>
internal sealed class BundleSessions : IDisposable
{
    private readonly Lazy<GraphSession> _monolithic;

    private BundleSessions(GraphSession[] stages, GraphSession?[] attention, GraphSession[] classifiers, Lazy<GraphSession> monolithic)
    {
        Stages = stages;
        Attention = attention;
        Classifiers = classifiers;
        _monolithic = monolithic;
    }

    public IReadOnlyList<GraphSession> Stages { get; }
    /// <summary>Per exit; null where the exit has no attention module.</summary>
    public IReadOnlyList<GraphSession?> Attention { get; }
    public IReadOnlyList<GraphSession> Classifiers { get; }
    public GraphSession Monolithic => _monolithic.Value;

    /// <summary>Runs of at most this many multiply-adds stay on the calling thread; 0 when none do (always under CUDA).</summary>
    public long InlineMaxMultiplyAdds { get; private init; }

    /// <summary>No run is longer than this in practice; it keeps a tiny graph's row limit a readable number.</summary>
    internal const int MaxInlineRows = 4096;

    /// <summary>Every graph of the chain, in running order (stage, then its exit's attention and classifier).</summary>
    public IEnumerable<GraphSession> Chain =>
        Stages.SelectMany((stage, k) => new[] { stage, Attention[k], Classifiers[k] }).OfType<GraphSession>();

    /// <summary>
    /// Opens every graph. <paramref name="inlineMaxMultiplyAdds"/>: a run of a graph stays on the calling thread when
    /// its rows times the graph's multiply-adds per image (from the manifest) are at most that many (CPU provider only;
    /// 0 = never). A graph with no run that small gets no inline session.
    /// </summary>
    public static BundleSessions Open(ModelBundle bundle, ExecutionProviderChoice provider, long inlineMaxMultiplyAdds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inlineMaxMultiplyAdds);
        if (provider.IsCuda) inlineMaxMultiplyAdds = 0;
        var opened = new List<GraphSession>();
        GraphSession Tracked(GraphSpec graph)
        {
            var session = OpenChecked(bundle, graph, provider, inlineMaxMultiplyAdds);
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
                new Lazy<GraphSession>(() => OpenChecked(bundle, m.Monolithic, provider, inlineMaxMultiplyAdds), LazyThreadSafetyMode.ExecutionAndPublication))
            {
                InlineMaxMultiplyAdds = inlineMaxMultiplyAdds,
            };
        }
        catch
        {
            foreach (var session in opened) session.Dispose();
            throw;
        }
    }

    private static GraphSession OpenChecked(ModelBundle bundle, GraphSpec graph, ExecutionProviderChoice provider, long inlineMaxMultiplyAdds)
    {
        // A graph whose cost the manifest does not give stays on the pool.
        var inlineMaxRows = graph.MultiplyAdds <= 0 ? 0 : (int)Math.Min(inlineMaxMultiplyAdds / graph.MultiplyAdds, MaxInlineRows);
        var pooled = OpenChecked(graph, () => OnnxSessions.CreateSession(bundle.PathOf(graph), provider));
        if (inlineMaxRows == 0) return new GraphSession(graph.File, pooled, null, 0);
        try
        {
            var inline = OpenChecked(graph, () => OnnxSessions.CreateInlineSession(bundle.PathOf(graph)));
            return new GraphSession(graph.File, pooled, inline, inlineMaxRows);
        }
        catch
        {
            pooled.Dispose();
            throw;
        }
    }

    private static InferenceSession OpenChecked(GraphSpec graph, Func<InferenceSession> open)
    {
        InferenceSession session;
        try
        {
            session = open();
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
