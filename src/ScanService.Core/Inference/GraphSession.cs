using Microsoft.ML.OnnxRuntime;

namespace ScanService.Core.Inference;

/// <summary>
/// One graph of a bundle, opened once or twice. The pooled session splits each run's work across the process's shared
/// intra-op pool; on the CPU provider a second, inline session can run it on the calling thread alone. Waking the
/// pool's sleeping threads for every parallel section costs more than it saves on a small run (one image through a
/// stage, a few through a head), and early exit is made of small runs: the images past exit 1 reach the deep stages a
/// few at a time. <see cref="For"/> picks the inline session for runs of at most <see cref="InlineMaxRows"/> rows,
/// which the engine derives from a budget of multiply-adds per run: on the 2-core benchmark machine runs of up to about
/// 8-10 million multiply-adds were faster inline and larger ones on the pool, at widths 16 and 64 alike
/// (docs/BENCHMARKS.md, "Inline runs").
/// Both sessions run the same optimised graph with the same kernels, so answers do not depend on which one ran (the
/// tests compare every request option, within 1e-6).
/// </summary>
internal sealed class GraphSession : IDisposable
{
    private readonly InferenceSession? _inline;

    public GraphSession(string file, InferenceSession pooled, InferenceSession? inline, int inlineMaxRows)
    {
        if ((inline is null) != (inlineMaxRows == 0))
            throw new ArgumentException("an inline session needs a positive row limit, and a limit an inline session");
        File = file;
        Pooled = pooled;
        _inline = inline;
        InlineMaxRows = inlineMaxRows;
    }

    /// <summary>The graph's file in the bundle: for logs and reports.</summary>
    public string File { get; }

    public InferenceSession Pooled { get; }

    /// <summary>Runs of at most this many rows stay on the calling thread; 0 when none do.</summary>
    public int InlineMaxRows { get; }

    /// <summary>Whether a run of <paramref name="rows"/> rows stays on the calling thread.</summary>
    public bool RunsInline(int rows) => rows <= InlineMaxRows;

    /// <summary>The session a run of <paramref name="rows"/> rows should use.</summary>
    public InferenceSession For(int rows) => RunsInline(rows) ? _inline! : Pooled;

    public void Dispose()
    {
        Pooled.Dispose();
        _inline?.Dispose();
    }
}
