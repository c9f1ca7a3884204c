using System.Collections.Concurrent;
using ScanService.Core.Batching;
using ScanService.Core.Inference.Features;
using static ScanService.Core.Tests.Inference.EnginePlans;

namespace ScanService.Core.Tests.Inference;

/// <summary>
/// Inline runs (CPU): a run whose rows times its graph's multiply-adds fit the budget uses the graph's second session,
/// which stays on the calling thread, a larger run the pooled one; every answer is the one the engine gives with every
/// run on the pool, alone, through compaction and through the batcher.
/// </summary>
public sealed class InlineRunsTests : IDisposable
{
    private const int Samples = 40;
    private static readonly ExecutionProviderChoice Cpu = OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu);
    private readonly EarlyExitEngine _pooled = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host, inlineMaxMultiplyAdds: 0);
    private readonly float[] _input;
    private readonly Dictionary<string, long> _multiplyAdds;
    // Three images through the costliest stage: stages run inline up to 3-4 images, heads up to 15-60.
    private readonly long _budget;

    public InlineRunsTests()
    {
        _input = TestImages.Normalised(_pooled.Manifest.Input, Samples);
        var m = _pooled.Manifest;
        _multiplyAdds = m.Stages.Select(s => s.Graph)
            .Concat(m.Exits.Select(e => e.Classifier))
            .Concat(m.Exits.Where(e => e.Attention is not null).Select(e => e.Attention!))
            .ToDictionary(g => g.File, g => g.MultiplyAdds);
        _budget = 3 * m.Stages.Max(s => s.Graph.MultiplyAdds);
    }

    public void Dispose() => _pooled.Dispose();

    private (EarlyExitEngine Engine, ConcurrentBag<(string File, int Rows, bool Inline)> Runs) Recorded(FeatureMemory memory, long budget)
    {
        var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, memory, inlineMaxMultiplyAdds: budget);
        var runs = new ConcurrentBag<(string, int, bool)>();
        engine.Stages.GraphRan += (file, rows, inline) => runs.Add((file, rows, inline));
        return (engine, runs);
    }

    [Fact]
    public void Each_graphs_row_limit_is_the_budget_over_its_multiply_adds_and_off_means_none()
    {
        Assert.Equal(0, _pooled.InlineMaxMultiplyAdds);
        Assert.All(_pooled.InlineMaxRows, g => Assert.Equal(0, g.Value));
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu);
        Assert.Equal(EarlyExitEngine.DefaultInlineMaxMultiplyAdds, engine.InlineMaxMultiplyAdds);
        Assert.Equal(_multiplyAdds.Keys.Order(), engine.InlineMaxRows.Select(g => g.Key).Order());
        Assert.All(engine.InlineMaxRows, g => Assert.Equal(Math.Min(EarlyExitEngine.DefaultInlineMaxMultiplyAdds / _multiplyAdds[g.Key], 4096), g.Value));
        // The committed model: one image through a stage fits the default budget, two do not.
        Assert.All(engine.InlineMaxRows.Where(g => g.Key.StartsWith("stage", StringComparison.Ordinal)), g => Assert.Equal(1, g.Value));
    }

    [Theory]
    [InlineData(FeatureMemory.Host)]
    [InlineData(FeatureMemory.Device)]
    public void Runs_within_the_budget_stay_inline_larger_ones_use_the_pool_and_every_answer_is_the_pooled_one(FeatureMemory memory)
    {
        var (engine, runs) = Recorded(memory, _budget);
        using var _ = engine;
        var plans = new[]
        {
            MedianThresholds(_pooled, _input, Samples),
            _pooled.Resolve(new InferenceOptions { Ensemble = true }),
            _pooled.Resolve(new InferenceOptions { FullDepth = true }),
        };
        foreach (var count in new[] { 1, 3, 5, Samples })
            foreach (var plan in plans)
            {
                var pixels = _input.AsSpan((Samples - count) * engine.SampleSize, count * engine.SampleSize).ToArray();
                var expected = _pooled.Run(pixels, count, plan);
                var actual = engine.Run(pixels, count, plan);
                for (var i = 0; i < count; i++) AssertSame(expected[i], actual[i]);
            }

        Assert.All(runs, run => Assert.Equal(run.Rows * _multiplyAdds[run.File] <= _budget, run.Inline));
        Assert.Contains(runs, run => run.Inline && run.File.StartsWith("stage", StringComparison.Ordinal));
        Assert.Contains(runs, run => !run.Inline && run.File.StartsWith("stage", StringComparison.Ordinal));
        Assert.Contains(runs, run => run.Inline && run.Rows > 3);
    }

    [Fact]
    public void The_monolithic_graph_runs_inline_within_the_budget_with_the_same_answers()
    {
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host, inlineMaxMultiplyAdds: 2 * _pooled.Manifest.FullDepthMultiplyAdds);
        foreach (var count in new[] { 1, 2, Samples })
        {
            var pixels = _input.AsSpan(0, count * engine.SampleSize).ToArray();
            var expected = _pooled.RunMonolithic(pixels, count);
            var actual = engine.RunMonolithic(pixels, count);
            for (var i = 0; i < count; i++) AssertSame(expected[i], actual[i]);
        }
    }

    [Fact]
    public async Task The_batcher_over_inline_runs_gives_each_sample_its_answer_alone()
    {
        var (engine, runs) = Recorded(FeatureMemory.Host, _budget);
        using var _ = engine;
        var plans = new[] { MedianThresholds(_pooled, _input, Samples), _pooled.Resolve(new InferenceOptions { Ensemble = true }) };
        var random = new Random(5);
        var work = Enumerable.Range(0, 100).Select(_ => (Image: random.Next(Samples), Plan: plans[random.Next(plans.Length)])).ToArray();
        float[] Row(int image) => _input.AsSpan(image * engine.SampleSize, engine.SampleSize).ToArray();
        await using (var batcher = new DynamicBatcher(engine, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 2 }))
        {
            var answers = await Task.WhenAll(work.Select(w => Task.Run(() => batcher.ClassifyAsync(Row(w.Image), 1, w.Plan))));
            for (var r = 0; r < work.Length; r++) AssertSame(_pooled.Run(Row(work[r].Image), 1, work[r].Plan)[0], answers[r][0]);
        }
        Assert.Contains(runs, run => run.Inline);
        Assert.All(runs, run => Assert.Equal(run.Rows * _multiplyAdds[run.File] <= _budget, run.Inline));
    }

    [Fact]
    public void A_negative_budget_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, inlineMaxMultiplyAdds: -1));
    }
}
