using ScanService.Core.Batching;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks.Targets;

/// <summary>
/// The engine called directly, one request at a time per client: batch 1 and batch 32 rows. Each request's
/// samples sit in their own array, as a caller's buffer would, so the engine wraps them without a copy.
/// </summary>
public sealed class EngineTarget(EarlyExitEngine engine, ServingMode mode, float[] pixels, int batchSize) : IClassifyTarget
{
    private readonly ExitPlan? _plan = mode.Kind == ModeKind.Monolithic ? null : engine.Resolve(mode.Options);
    private readonly float[][] _requests = Split(pixels, engine.SampleSize, batchSize);

    private static float[][] Split(float[] pixels, int sampleSize, int batchSize)
    {
        var perRequest = sampleSize * batchSize;
        return Enumerable.Range(0, (pixels.Length + perRequest - 1) / perRequest)
            .Select(r => pixels.AsSpan(r * perRequest, Math.Min(perRequest, pixels.Length - r * perRequest)).ToArray())
            .ToArray();
    }

    public Task<Answer[]> ClassifyAsync(int first, int count, CancellationToken cancellationToken)
    {
        if (first % batchSize != 0) throw new ArgumentException($"requests start at multiples of {batchSize}", nameof(first));
        var input = _requests[first / batchSize];
        var predictions = _plan is null ? engine.RunMonolithic(input, count, cancellationToken) : engine.Run(input, count, _plan, cancellationToken: cancellationToken);
        return Task.FromResult(predictions.Select(p => new Answer(p.ClassIndex, p.Exit)).ToArray());
    }
}

/// <summary>The chained engine behind the service's dynamic batcher, in process: requests of one sample each.</summary>
public sealed class BatcherTarget(DynamicBatcher batcher, ServingMode mode, float[] pixels) : IClassifyTarget
{
    private readonly ExitPlan _plan = batcher.Engine.Resolve(mode.Options);
    private readonly int _size = batcher.Engine.SampleSize;

    public async Task<Answer[]> ClassifyAsync(int first, int count, CancellationToken cancellationToken)
    {
        var predictions = await batcher.ClassifyAsync(pixels.AsMemory(first * _size, count * _size), count, _plan, cancellationToken);
        return predictions.Select(p => new Answer(p.ClassIndex, p.Exit)).ToArray();
    }
}

/// <summary>The monolithic graph behind the same batching policy: the baseline under concurrency.</summary>
public sealed class MonolithicBatcherTarget(MonolithicBatcher batcher, float[] pixels, int sampleSize) : IClassifyTarget
{
    public async Task<Answer[]> ClassifyAsync(int first, int count, CancellationToken cancellationToken)
    {
        var predictions = await batcher.ClassifyAsync(pixels.AsMemory(first * sampleSize, count * sampleSize), count, cancellationToken);
        return predictions.Select(p => new Answer(p.ClassIndex, p.Exit)).ToArray();
    }
}
