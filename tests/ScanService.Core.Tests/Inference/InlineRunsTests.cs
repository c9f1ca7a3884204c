using System.Collections.Concurrent;
using ScanService.Core.Batching;
using ScanService.Core.Inference.Features;
using static ScanService.Core.Tests.Inference.EnginePlans;

namespace ScanService.Core.Tests.Inference;

/// <summary>
/// Inline runs (CPU): runs of at most a graph's limit use its second session, which stays on the calling thread, larger
/// runs the pooled one; every answer is the one the engine gives with every run on the pool, alone, through compaction
/// and through the batcher.
/// </summary>
public sealed class InlineRunsTests : IDisposable
{
    private const int Samples = 40;
    private const int Limit = 3;
    private static readonly ExecutionProviderChoice Cpu = OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu);
    private readonly EarlyExitEngine _pooled = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host, inlineMaxRows: 0);
    private readonly float[] _input;

    public InlineRunsTests() => _input = TestImages.Normalised(_pooled.Manifest.Input, Samples);

    public void Dispose() => _pooled.Dispose();

    [Fact]
    public void One_row_runs_inline_by_default_and_with_the_option_off_every_run_uses_the_pool()
    {
        Assert.Equal(0, _pooled.InlineMaxRows);
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu);
        Assert.Equal(EarlyExitEngine.DefaultInlineMaxRows, engine.InlineMaxRows);
        var runs = new ConcurrentBag<(int Rows, bool Inline)>();
        engine.Stages.GraphRan += (rows, inline) => runs.Add((rows, inline));
        var ensemble = engine.Resolve(new InferenceOptions { Ensemble = true });
        engine.Run(_input, 1, ensemble);
        engine.Run(_input, 2, ensemble);
        // Four stages, three attention modules and four classifiers at each of the two sizes.
        Assert.Equal(22, runs.Count);
        Assert.All(runs, run => Assert.Equal(run.Rows == 1, run.Inline));
    }

    [Theory]
    [InlineData(FeatureMemory.Host)]
    [InlineData(FeatureMemory.Device)]
    public void Runs_up_to_the_limit_stay_inline_larger_ones_use_the_pool_and_every_answer_is_the_pooled_one(FeatureMemory memory)
    {
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, memory, inlineMaxRows: Limit);
        var runs = new ConcurrentBag<(int Rows, bool Inline)>();
        engine.Stages.GraphRan += (rows, inline) => runs.Add((rows, inline));
        Assert.Equal(Limit, engine.InlineMaxRows);
        var plans = new[]
        {
            MedianThresholds(_pooled, _input, Samples),
            _pooled.Resolve(new InferenceOptions { Ensemble = true }),
            _pooled.Resolve(new InferenceOptions { FullDepth = true }),
        };
        foreach (var count in new[] { 1, Limit, Limit + 1, Samples })
            foreach (var plan in plans)
            {
                var pixels = _input.AsSpan((Samples - count) * engine.SampleSize, count * engine.SampleSize).ToArray();
                var expected = _pooled.Run(pixels, count, plan);
                var actual = engine.Run(pixels, count, plan);
                for (var i = 0; i < count; i++) AssertSame(expected[i], actual[i]);
            }

        Assert.All(runs, run => Assert.Equal(run.Rows <= Limit, run.Inline));
        Assert.Contains(runs, run => run.Inline);
        Assert.Contains(runs, run => !run.Inline);
    }

    [Fact]
    public void The_monolithic_graph_runs_inline_up_to_the_limit_with_the_same_answers()
    {
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host, inlineMaxRows: Limit);
        foreach (var count in new[] { 1, Limit, Samples })
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
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host, inlineMaxRows: Limit);
        var runs = new ConcurrentBag<bool>();
        engine.Stages.GraphRan += (_, inline) => runs.Add(inline);
        var plans = new[] { MedianThresholds(_pooled, _input, Samples), _pooled.Resolve(new InferenceOptions { Ensemble = true }) };
        var random = new Random(5);
        var work = Enumerable.Range(0, 100).Select(_ => (Image: random.Next(Samples), Plan: plans[random.Next(plans.Length)])).ToArray();
        float[] Row(int image) => _input.AsSpan(image * engine.SampleSize, engine.SampleSize).ToArray();
        await using (var batcher = new DynamicBatcher(engine, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 2 }))
        {
            var answers = await Task.WhenAll(work.Select(w => Task.Run(() => batcher.ClassifyAsync(Row(w.Image), 1, w.Plan))));
            for (var r = 0; r < work.Length; r++) AssertSame(_pooled.Run(Row(work[r].Image), 1, work[r].Plan)[0], answers[r][0]);
        }
        Assert.Contains(true, runs);
    }

    [Fact]
    public void A_negative_limit_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, inlineMaxRows: -1));
    }
}
