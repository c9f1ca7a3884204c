using Microsoft.ML.OnnxRuntime;

namespace ScanService.Core.Inference.Features;

/// <summary>
/// Feature maps in memory ONNX Runtime allocates on the provider's device. Rows are gathered by running
/// <c>Gather(data, indices, axis 0)</c> on the same provider with the output bound to the destination rows.
/// </summary>
internal sealed class DeviceFeatureStore : FeatureStore
{
    private readonly OrtAllocator _allocator;
    private readonly OrtMemoryInfo _location;
    private readonly bool _ownsAllocator;
    private readonly InferenceSession _gather;
    private readonly RunOptions _runOptions = new();
    // Blocks still allocated: the allocator (and the session whose arena it is) must outlive every one of them, or
    // freeing a block would call into a released allocator. Dispose defers the release until the last is freed.
    private readonly Lock _gate = new();
    private int _liveBlocks;
    private bool _disposed;

    private DeviceFeatureStore(OrtAllocator allocator, bool ownsAllocator, InferenceSession gather, int fixedBatch)
        : base(fixedBatch)
    {
        _allocator = allocator;
        _location = allocator.Info;
        _ownsAllocator = ownsAllocator;
        _gather = gather;
    }

    public override FeatureMemory Kind => FeatureMemory.Device;
    public override OrtMemoryInfo OutputLocation => _location;

    /// <summary>
    /// A store on <paramref name="provider"/>'s device. Under CUDA the blocks come from the device allocator (arena)
    /// of the Gather graph's own session, which lives as long as the store; device memory from one session is read
    /// by any other on the same device. Under CPU, ONNX Runtime's default CPU allocator.
    /// </summary>
    public static DeviceFeatureStore Create(ExecutionProviderChoice provider, int fixedBatch = 0)
    {
        var gather = OnnxSessions.CreateSession(RowGatherGraph.Build(), provider);
        try
        {
            if (!provider.IsCuda) return new DeviceFeatureStore(OrtAllocator.DefaultInstance, false, gather, fixedBatch);
            return new DeviceFeatureStore(CudaAllocator(gather, provider.DeviceId), true, gather, fixedBatch);
        }
        catch
        {
            gather.Dispose();
            throw;
        }
    }

    /// <summary>The session's allocator for the CUDA device: its arena, looked up by device (tried as either allocator type).</summary>
    private static OrtAllocator CudaAllocator(InferenceSession session, int deviceId)
    {
        OnnxRuntimeException? failure = null;
        foreach (var type in new[] { OrtAllocatorType.ArenaAllocator, OrtAllocatorType.DeviceAllocator })
        {
            using var info = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, type, deviceId, OrtMemType.Default);
            try
            {
                return new OrtAllocator(session, info);
            }
            catch (OnnxRuntimeException e)
            {
                failure = e;
            }
        }
        throw failure!;
    }

    public override FeatureBlock Allocate(int rows, long[] rowShape)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _liveBlocks++;
        }
        try
        {
            return FeatureBlock.Allocated(_allocator, _location, this, rows, CapacityFor(rows), rowShape);
        }
        catch
        {
            BlockFreed();
            throw;
        }
    }

    /// <summary>Blocks allocated and not yet freed: zero whenever no work is in flight.</summary>
    internal int LiveBlocks
    {
        get
        {
            lock (_gate) return _liveBlocks;
        }
    }

    internal void BlockFreed()
    {
        bool release;
        lock (_gate) release = --_liveBlocks == 0 && _disposed;
        if (release) ReleaseNative();
    }

    public override void Gather(FeatureBlock source, ReadOnlySpan<int> sourceRows, FeatureBlock destination, int destinationRow)
    {
        var indices = new long[sourceRows.Length];
        for (var i = 0; i < indices.Length; i++) indices[i] = sourceRows[i];
        using var data = source.View(0, source.Rows);
        using var index = OrtValue.CreateTensorValueFromMemory(indices, [indices.Length]);
        using var output = destination.View(destinationRow, sourceRows.Length);
        using var binding = _gather.CreateIoBinding();
        binding.BindInput(RowGatherGraph.Data, data);
        binding.BindInput(RowGatherGraph.Indices, index);
        binding.BindOutput(RowGatherGraph.Output, output);
        // No SynchronizeBound*: see StageRunner.Execute.
        _gather.RunWithBinding(_runOptions, binding);
    }

    public override void Dispose()
    {
        bool release;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            release = _liveBlocks == 0;
        }
        if (release) ReleaseNative();
        base.Dispose();
    }

    private void ReleaseNative()
    {
        if (_ownsAllocator) _allocator.Dispose();
        _gather.Dispose();
        _runOptions.Dispose();
    }
}
