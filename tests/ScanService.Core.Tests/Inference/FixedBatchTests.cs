using System.Collections.Concurrent;
using ScanService.Core.Inference.Features;
using static ScanService.Core.Tests.Inference.EnginePlans;

namespace ScanService.Core.Tests.Inference;

/// <summary>
/// A fixed batch (what the service uses under CUDA, whose convolutions are planned again at every new input shape):
/// every graph is bound to exactly that many rows, smaller batches padded and larger ones run in parts, and every
/// answer is the one the engine gives without it, alone, through compaction at every exit, and through the batcher.
/// Here on the CPU provider, with host arrays and with ONNX Runtime's allocator (the device path).
/// </summary>
public sealed class FixedBatchTests : IDisposable
{
    private const int Samples = 40;
    private const int Batch = 4;
    private static readonly ExecutionProviderChoice Cpu = OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu);
    private readonly EarlyExitEngine _plain = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host);
    private readonly float[] _input;

    public FixedBatchTests() => _input = TestImages.Normalised(_plain.Manifest.Input, Samples);

    public void Dispose() => _plain.Dispose();

    private static (EarlyExitEngine Engine, ConcurrentBag<int> Bound) FixedEngine(FeatureMemory memory, int fixedBatch = Batch)
    {
        var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, memory, fixedBatch);
        var bound = new ConcurrentBag<int>();
        engine.Stages.GraphRan += (_, rows, _) => bound.Add(rows);
        return (engine, bound);
    }

    private float[] Rows(int first, int count) => _input.AsSpan(first * _plain.SampleSize, count * _plain.SampleSize).ToArray();

    [Theory]
    [InlineData(FeatureMemory.Host)]
    [InlineData(FeatureMemory.Device)]
    public void Every_graph_runs_at_the_fixed_batch_and_every_answer_is_the_unpadded_one(FeatureMemory memory)
    {
        var (engine, bound) = FixedEngine(memory);
        using var _ = engine;
        Assert.Equal(Batch, engine.FixedBatch);
        var plans = new[]
        {
            MedianThresholds(_plain, _input, Samples),
            _plain.Resolve(new InferenceOptions()),
            _plain.Resolve(new InferenceOptions { Ensemble = true }),
            _plain.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 3 }),
        };
        // Fewer rows than the batch, exactly one batch, and several batches with a short last part.
        foreach (var count in new[] { 1, 3, Batch, 2 * Batch + 1, Samples })
            foreach (var plan in plans)
            {
                var pixels = Rows(Samples - count, count);
                var expected = _plain.Run(pixels, count, plan);
                var actual = engine.Run(pixels, count, plan);
                for (var i = 0; i < count; i++) AssertSame(expected[i], actual[i]);
            }

        Assert.NotEmpty(bound);
        Assert.All(bound, rows => Assert.Equal(Batch, rows));
        Assert.Equal(0, engine.Stages.LiveDeviceBlocks);
    }

    [Fact]
    public void The_monolithic_graph_runs_padded_and_in_parts_with_the_same_answers()
    {
        var (engine, _) = FixedEngine(FeatureMemory.Host);
        using var __ = engine;
        foreach (var count in new[] { 1, Batch, 2 * Batch + 3 })
        {
            var pixels = Rows(0, count);
            var expected = _plain.RunMonolithic(pixels, count);
            var actual = engine.RunMonolithic(pixels, count);
            for (var i = 0; i < count; i++) AssertSame(expected[i], actual[i]);
        }
    }

    [Fact]
    public async Task The_batcher_over_a_fixed_batch_smaller_than_its_own_gives_each_sample_its_answer_alone()
    {
        var (engine, bound) = FixedEngine(FeatureMemory.Device, fixedBatch: 3);
        using var _ = engine;
        var plans = new[] { MedianThresholds(_plain, _input, Samples), _plain.Resolve(new InferenceOptions { Ensemble = true }), _plain.Resolve(new InferenceOptions()) };
        await using (var batcher = new DynamicBatcher(engine, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 2 }))
        {
            var random = new Random(3);
            var work = Enumerable.Range(0, 100).Select(_ => (Image: random.Next(Samples), Plan: plans[random.Next(plans.Length)])).ToArray();

            var answers = await Task.WhenAll(work.Select(w => Task.Run(() => batcher.ClassifyAsync(Rows(w.Image, 1), 1, w.Plan))));

            for (var r = 0; r < work.Length; r++) AssertSame(_plain.Run(Rows(work[r].Image, 1), 1, work[r].Plan)[0], answers[r][0]);
        }
        Assert.All(bound, rows => Assert.Equal(3, rows));
        Assert.Equal(0, engine.Stages.LiveDeviceBlocks);
    }

    [Fact]
    public void Warming_up_a_fixed_batch_engine_runs_the_one_shape_only()
    {
        var (engine, bound) = FixedEngine(FeatureMemory.Host);
        using var _ = engine;
        var observer = new Batching.RecordingObserver();

        engine.WarmUp(32, observer);

        Assert.Equal([Batch], observer.Stages.Select(s => s.Size).Distinct());
        Assert.Equal(engine.ExitCount, observer.Stages.Count);
        Assert.All(bound, rows => Assert.Equal(Batch, rows));
    }

    [Theory]
    [InlineData(FeatureMemory.Host)]
    [InlineData(FeatureMemory.Device)]
    public void Blocks_have_room_for_whole_fixed_batches_and_views_stop_at_that_room(FeatureMemory kind)
    {
        using FeatureStore store = kind == FeatureMemory.Device ? DeviceFeatureStore.Create(Cpu, Batch) : new ArrayFeatureStore(Batch);
        using var block = store.Allocate(5, [2, 3]);
        Assert.Equal((5, 2 * Batch), (block.Rows, block.Capacity));
        using (block.View(Batch, Batch)) { }
        Assert.Throws<ArgumentOutOfRangeException>(() => block.View(Batch + 1, Batch));
        using var exact = store.Allocate(Batch, [2, 3]);
        Assert.Equal(Batch, exact.Capacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host, -1));
    }
}
