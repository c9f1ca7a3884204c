using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace ScanService.Core.Inference;

/// <summary>
/// One graph of a bundle, opened once or twice. The pooled session splits each run's work across the process's shared
/// intra-op pool; on the CPU provider a second, inline session can run it on the calling thread alone. Waking the
/// pool's sleeping threads for every parallel section costs more than it saves on a small run (one image through a
/// stage, a few through a head), and early exit is made of small runs: the images past exit 1 reach the deep stages a
/// few at a time. <see cref="For"/> picks the inline session for runs of at most <see cref="InlineMaxRows"/> rows.
/// Both sessions compute every output element the same way, so answers do not depend on which one ran.
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

    /// <summary>
    /// The largest run, among 1, 2, 4 … <paramref name="largestRows"/> rows, up to which <paramref name="inline"/> is
    /// faster than <paramref name="pooled"/> at every size tried, timed on this machine now (0 when it is slower already
    /// at one row). Each size is timed in alternating turns and the medians compared, so that a burst of other work
    /// falls on both; sizes stop at the first that the pool wins.
    /// </summary>
    public static int MeasureInlineMaxRows(InferenceSession pooled, InferenceSession inline, int largestRows, int turns = 7)
    {
        var input = pooled.InputMetadata.Single();
        var outputName = pooled.OutputMetadata.Keys.Single();
        var best = 0;
        for (var rows = 1; rows <= largestRows; rows *= 2)
        {
            var shape = input.Value.Dimensions.Select(d => (long)d).ToArray();
            shape[0] = rows;
            var pixels = new float[(int)shape.Aggregate(1L, (a, b) => a * b)];
            pixels.AsSpan().Fill(0.5f);
            using var value = OrtValue.CreateTensorValueFromMemory(pixels, shape);
            using var runOptions = new RunOptions();
            void RunOnce(InferenceSession session)
            {
                using var _ = session.Run(runOptions, [input.Key], [value], [outputName]);
            }
            // Enough runs per turn for a turn to last about a millisecond, decided from a warm run of the pooled session.
            RunOnce(inline);
            RunOnce(pooled);
            var start = Stopwatch.GetTimestamp();
            RunOnce(pooled);
            var repeats = Math.Clamp((int)(0.001 / Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-6)), 1, 50);
            var pooledTimes = new double[turns];
            var inlineTimes = new double[turns];
            for (var turn = 0; turn < turns; turn++)
            {
                pooledTimes[turn] = Time(() => RunOnce(pooled), repeats);
                inlineTimes[turn] = Time(() => RunOnce(inline), repeats);
            }
            if (Median(inlineTimes) >= Median(pooledTimes)) break;
            best = rows;
        }
        return best;
    }

    private static double Time(Action run, int repeats)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < repeats; i++) run();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / repeats;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    public void Dispose()
    {
        Pooled.Dispose();
        _inline?.Dispose();
    }
}
