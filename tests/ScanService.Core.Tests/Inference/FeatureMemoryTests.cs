using ScanService.Core.Inference.Features;
using static ScanService.Core.Tests.Inference.EnginePlans;

namespace ScanService.Core.Tests.Inference;

/// <summary>
/// Feature maps kept in ONNX Runtime's memory and moved with IOBinding and the Gather graph (the path CUDA takes,
/// here on ONNX Runtime's CPU allocator) give the answers the host-array path gives, alone and through the batcher.
/// </summary>
public sealed class FeatureMemoryTests : IDisposable
{
    private const int Samples = 64;
    private static readonly ExecutionProviderChoice Cpu = OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu);
    private readonly EarlyExitEngine _host = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Host);
    private readonly EarlyExitEngine _device = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu, FeatureMemory.Device);
    private readonly float[] _input;

    public FeatureMemoryTests() => _input = TestImages.Normalised(_host.Manifest.Input, Samples);

    public void Dispose()
    {
        _host.Dispose();
        _device.Dispose();
    }

    private float[] Sample(int i) => _input.AsSpan(i * _host.SampleSize, _host.SampleSize).ToArray();

    private ExitPlan MedianThresholds() => EnginePlans.MedianThresholds(_host, _input, Samples);

    [Fact]
    public void Auto_keeps_features_in_host_arrays_on_the_cpu_provider()
    {
        using var engine = EarlyExitEngine.Create(CommittedBundle.Load(), Cpu);
        Assert.Equal(FeatureMemory.Host, engine.FeatureMemory);
    }

    [Fact]
    public void Device_memory_with_compaction_at_every_exit_gives_the_host_answers()
    {
        var plans = new[]
        {
            MedianThresholds(),
            _host.Resolve(new InferenceOptions()),
            _host.Resolve(new InferenceOptions { Ensemble = true }),
            _host.Resolve(new InferenceOptions { FullDepth = true, MaxExit = 3 }),
        };
        foreach (var plan in plans)
        {
            var host = _host.Run(_input, Samples, plan);
            var device = _device.Run(_input, Samples, plan);
            for (var i = 0; i < Samples; i++) AssertSame(host[i], device[i]);
        }
        Assert.True(_host.Run(_input, Samples, plans[0]).Select(a => a.Exit).Distinct().Count() >= 3, "the median thresholds should spread the samples over the exits");
    }

    [Fact]
    public async Task The_batcher_regroups_device_rows_of_several_batches_and_gives_each_sample_its_answer_alone()
    {
        var median = MedianThresholds();
        var plans = new[] { median, _host.Resolve(new InferenceOptions { Ensemble = true }), _host.Resolve(new InferenceOptions { FullDepth = true }), _host.Resolve(new InferenceOptions()) };
        await using var batcher = new DynamicBatcher(_device, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 2 });
        var random = new Random(11);
        var work = Enumerable.Range(0, 120).Select(_ => (Image: random.Next(Samples), Plan: plans[random.Next(plans.Length)])).ToArray();

        var answers = await Task.WhenAll(work.Select(w => Task.Run(() => batcher.ClassifyAsync(Sample(w.Image), 1, w.Plan))));

        for (var r = 0; r < work.Length; r++) AssertSame(_host.Run(Sample(work[r].Image), 1, work[r].Plan)[0], answers[r][0]);
        Assert.Equal(0, batcher.Pending);
        Assert.Equal(0, _device.Stages.LiveDeviceBlocks);
    }

    [Fact]
    public async Task Requests_cancelled_at_any_moment_leave_no_device_block_and_no_queue_place_behind()
    {
        var plan = MedianThresholds();
        await using var batcher = new DynamicBatcher(_device, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 1 });
        var random = new Random(5);
        var calls = new List<Task>();
        for (var r = 0; r < 300; r++)
        {
            var cancel = new CancellationTokenSource();
            var count = 1 + random.Next(4);
            var first = random.Next(Samples - count);
            var call = batcher.ClassifyAsync(_input.AsMemory(first * _host.SampleSize, count * _host.SampleSize), count, plan, cancel.Token);
            // Cancelled before, while or after its samples run: at once, after a spin, or never.
            switch (random.Next(3))
            {
                case 0: cancel.Cancel(); break;
                case 1: _ = Task.Run(async () => { await Task.Delay(random.Next(3)); await cancel.CancelAsync(); }); break;
            }
            calls.Add(call.ContinueWith(_ => cancel.Dispose(), TaskScheduler.Default));
        }
        await Task.WhenAll(calls);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((batcher.Pending > 0 || _device.Stages.LiveDeviceBlocks > 0) && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(0, batcher.Pending);
        Assert.Equal(0, _device.Stages.LiveDeviceBlocks);
        Assert.True(batcher.DroppedSamples > 0, "some cancellation should have caught samples queued or in flight");
    }

    [Fact]
    public void Engine_runs_free_every_device_block_they_allocate()
    {
        _device.Run(_input, Samples, MedianThresholds());
        _device.Run(_input, Samples, _host.Resolve(new InferenceOptions { Ensemble = true }));
        Assert.Equal(0, _device.Stages.LiveDeviceBlocks);
    }

    [Fact]
    public void A_block_freed_after_its_store_is_disposed_is_freed_safely_and_the_store_takes_no_more()
    {
        var store = DeviceFeatureStore.Create(Cpu);
        var block = store.Allocate(2, [4]);
        store.Dispose();

        Assert.Equal(1, store.LiveBlocks);
        Assert.Throws<ObjectDisposedException>(() => store.Allocate(1, [4]));
        block.Dispose();
        Assert.Equal(0, store.LiveBlocks);
    }

    [Theory]
    [InlineData(FeatureMemory.Host)]
    [InlineData(FeatureMemory.Device)]
    public void Assembling_rows_from_several_blocks_in_any_order_copies_each_row_whole(FeatureMemory kind)
    {
        long[] rowShape = [3, 2, 5];
        using var host = new ArrayFeatureStore();
        using var device = kind == FeatureMemory.Device ? DeviceFeatureStore.Create(Cpu) : null;
        FeatureStore store = (FeatureStore?)device ?? host;
        int[] seeds = [100, 200, 300];
        var blocks = seeds.Select((seed, b) => Filled(store, 4 + b, rowShape, seed)).ToArray();
        try
        {
            // Runs of one block, the same row twice, and blocks revisited: every kind of gather.
            FeatureRow[] rows = [new(blocks[2], 5), new(blocks[2], 0), new(blocks[0], 3), new(blocks[1], 1), new(blocks[1], 1), new(blocks[2], 2), new(blocks[0], 0)];

            using var assembled = store.Assemble(rows, rowShape);

            Assert.Equal(rows.Length, assembled.Rows);
            var read = Read(assembled);
            for (var i = 0; i < rows.Length; i++)
                Assert.Equal(Row(seeds[Array.IndexOf(blocks, rows[i].Block)], rows[i].Row, assembled.RowSize), read.AsSpan(i * assembled.RowSize, assembled.RowSize).ToArray());
        }
        finally
        {
            foreach (var block in blocks) block.Dispose();
        }
    }

    /// <summary>A block whose row r holds seed + r*1000 + j at position j, written through a tensor view (device blocks on CPU are host-readable).</summary>
    private static FeatureBlock Filled(FeatureStore store, int rows, long[] rowShape, int seed)
    {
        var block = store.Allocate(rows, rowShape);
        using var view = block.View(0, rows);
        var data = view.GetTensorMutableDataAsSpan<float>();
        for (var r = 0; r < rows; r++)
            for (var j = 0; j < block.RowSize; j++) data[r * block.RowSize + j] = seed + r * 1000 + j;
        return block;
    }

    private static float[] Row(int seed, int row, int size) => Enumerable.Range(0, size).Select(j => (float)(seed + row * 1000 + j)).ToArray();

    private static float[] Read(FeatureBlock block)
    {
        using var view = block.View(0, block.Rows);
        return view.GetTensorDataAsSpan<float>().ToArray();
    }
}
