using System.Buffers;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace ScanService.Core.Inference;

/// <summary>Where the engine keeps feature maps between graphs.</summary>
public enum FeatureMemory
{
    /// <summary><see cref="Device"/> under CUDA, <see cref="Host"/> under CPU.</summary>
    Auto,
    /// <summary>
    /// Pooled .NET arrays wrapped as tensors in place: no copies on CPU. Under CUDA every feature map would travel
    /// to host memory and back between graphs.
    /// </summary>
    Host,
    /// <summary>
    /// Memory of the execution provider's device, allocated by ONNX Runtime and bound to each graph with IOBinding;
    /// survivors are compacted on the device by a Gather graph and only logits come back to host memory. Under CPU
    /// this is ONNX Runtime's CPU allocator: the same code path, which is how it is tested without a GPU.
    /// </summary>
    Device,
}

/// <summary>
/// Rows of one feature map shape (one sample per row) in one block of memory: a stage's output for a batch, or a
/// request's preprocessed pixels. Disposed when nothing reads it any more; a block over memory the caller owns
/// (pixels) gives nothing back.
/// </summary>
internal sealed class FeatureBlock : IDisposable
{
    private readonly float[]? _array;
    private readonly int _offset;
    private readonly ArrayPool<float>? _pool;
    private readonly OrtMemoryAllocation? _allocation;
    private readonly OrtMemoryInfo? _location;
    private readonly DeviceFeatureStore? _owner;
    private readonly long[] _rowShape;
    private bool _disposed;

    private FeatureBlock(long[] rowShape, int rows, float[]? array, int offset, ArrayPool<float>? pool,
        OrtMemoryAllocation? allocation = null, OrtMemoryInfo? location = null, DeviceFeatureStore? owner = null)
    {
        _rowShape = rowShape;
        RowSize = checked((int)Elements(rowShape));
        Rows = rows;
        _array = array;
        _offset = offset;
        _pool = pool;
        _allocation = allocation;
        _location = location;
        _owner = owner;
    }

    /// <summary>Rows of a managed array the caller keeps (a request's pixels): never returned anywhere.</summary>
    public static FeatureBlock OverArray(float[] array, int offset, int rows, long[] rowShape) => new(rowShape, rows, array, offset, null);

    internal static FeatureBlock Rented(ArrayPool<float> pool, int rows, long[] rowShape)
    {
        return new FeatureBlock(rowShape, rows, pool.Rent(checked((int)(rows * Elements(rowShape)))), 0, pool);
    }

    /// <summary>Rows in memory from <paramref name="allocator"/>, which is at <paramref name="location"/>; <paramref name="owner"/> hears when they are freed.</summary>
    internal static FeatureBlock Allocated(OrtAllocator allocator, OrtMemoryInfo location, DeviceFeatureStore owner, int rows, long[] rowShape)
    {
        var bytes = checked((uint)(rows * Elements(rowShape) * sizeof(float)));
        return new FeatureBlock(rowShape, rows, null, 0, null, allocator.Allocate(Math.Max(bytes, 1u)), location, owner);
    }

    /// <summary>Elements of a tensor of <paramref name="shape"/>.</summary>
    internal static long Elements(IEnumerable<long> shape) => shape.Aggregate(1L, (a, d) => a * d);

    public int Rows { get; }
    /// <summary>Floats per row.</summary>
    public int RowSize { get; }
    /// <summary>Whether the rows are in host memory the process can read.</summary>
    public bool IsHost => _array is not null;

    /// <summary>Readers still to come (the batcher's survivors); the block is disposed when the last one releases it.</summary>
    public int References { get; set; }

    public void Release()
    {
        if (--References == 0) Dispose();
    }

    /// <summary>The rows as host memory; only for a host block.</summary>
    public Span<float> HostRows(int first, int count) =>
        (_array ?? throw new InvalidOperationException("the rows are in device memory")).AsSpan(_offset + first * RowSize, count * RowSize);

    /// <summary>A tensor over rows [first, first + count) of this block, in place.</summary>
    public OrtValue View(int first, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first + count, Rows);
        long[] shape = [count, .. _rowShape];
        if (_array is not null)
            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _array.AsMemory(_offset + first * RowSize, count * RowSize), shape);
        var allocation = _allocation!;
        // The allocation's handle is the device address (the managed API keeps its Pointer internal). Views never
        // outlive the block: each is disposed after the run it was made for, before the block can be.
        var start = allocation.DangerousGetHandle() + (nint)first * RowSize * sizeof(float);
        return OrtValue.CreateTensorValueWithData(_location!, TensorElementType.Float, shape, start, (long)count * RowSize * sizeof(float));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_pool is not null) _pool.Return(_array!);
        if (_allocation is null) return;
        _allocation.Dispose();
        _owner!.BlockFreed();
    }
}

/// <summary>A sample's row in a block.</summary>
internal readonly record struct FeatureRow(FeatureBlock Block, int Row);

/// <summary>
/// Allocates the engine's feature blocks and moves rows between them: with <see cref="Array.Copy(Array, int, Array, int, int)"/>
/// in host memory, with a one-node Gather graph on the device (so that compaction never leaves it).
/// </summary>
internal abstract class FeatureStore : IDisposable
{
    public abstract FeatureMemory Kind { get; }
    /// <summary>Where ONNX Runtime puts a graph output the engine does not allocate itself (the attended map).</summary>
    public abstract OrtMemoryInfo OutputLocation { get; }

    public abstract FeatureBlock Allocate(int rows, long[] rowShape);

    /// <summary>Copies <paramref name="sourceRows"/> of <paramref name="source"/> into rows <paramref name="destinationRow"/>.. of <paramref name="destination"/>.</summary>
    public abstract void Gather(FeatureBlock source, ReadOnlySpan<int> sourceRows, FeatureBlock destination, int destinationRow);

    /// <summary>A block of this store holding <paramref name="rows"/> (all in blocks this store can read) in order.</summary>
    public FeatureBlock Assemble(IReadOnlyList<FeatureRow> rows, long[] rowShape)
    {
        var assembled = Allocate(rows.Count, rowShape);
        try
        {
            Span<int> indices = rows.Count <= 256 ? stackalloc int[rows.Count] : new int[rows.Count];
            var start = 0;
            while (start < rows.Count)
            {
                // One gather per run of rows from the same block.
                var block = rows[start].Block;
                var end = start;
                while (end < rows.Count && ReferenceEquals(rows[end].Block, block))
                {
                    indices[end - start] = rows[end].Row;
                    end++;
                }
                Gather(block, indices[..(end - start)], assembled, start);
                start = end;
            }
            return assembled;
        }
        catch
        {
            assembled.Dispose();
            throw;
        }
    }

    public virtual void Dispose()
    {
    }
}

/// <summary>Feature maps in pooled managed arrays.</summary>
internal sealed class HostFeatureStore : FeatureStore
{
    public override FeatureMemory Kind => FeatureMemory.Host;
    public override OrtMemoryInfo OutputLocation => OrtMemoryInfo.DefaultInstance;

    // A batch's feature maps are megabytes: a fresh array per graph made every call a large-object allocation,
    // and the gen-2 collections that followed cost more at batch 32 than chaining the graphs did.
    public override FeatureBlock Allocate(int rows, long[] rowShape) => FeatureBlock.Rented(ArrayPool<float>.Shared, rows, rowShape);

    public override void Gather(FeatureBlock source, ReadOnlySpan<int> sourceRows, FeatureBlock destination, int destinationRow)
    {
        for (var i = 0; i < sourceRows.Length; i++)
            source.HostRows(sourceRows[i], 1).CopyTo(destination.HostRows(destinationRow + i, 1));
    }
}

/// <summary>
/// Feature maps in memory ONNX Runtime allocates on the provider's device. Rows are gathered by running
/// <c>Gather(data, indices, axis 0)</c> on the same provider with the output bound to the destination rows.
/// </summary>
internal sealed class DeviceFeatureStore : FeatureStore
{
    private const string Data = "data";
    private const string Indices = "indices";
    private const string Output = "rows";

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

    private DeviceFeatureStore(OrtAllocator allocator, bool ownsAllocator, InferenceSession gather)
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
    public static DeviceFeatureStore Create(ExecutionProviderChoice provider)
    {
        var gather = OnnxRuntimeHost.CreateSession(GatherGraph(), provider);
        try
        {
            if (!provider.IsCuda) return new DeviceFeatureStore(OrtAllocator.DefaultInstance, false, gather);
            return new DeviceFeatureStore(CudaAllocator(gather, provider.DeviceId), true, gather);
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
            return FeatureBlock.Allocated(_allocator, _location, this, rows, rowShape);
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
        binding.BindInput(Data, data);
        binding.BindInput(Indices, index);
        binding.BindOutput(Output, output);
        // No SynchronizeBound*: see EarlyExitEngine.Execute.
        _gather.RunWithBinding(_runOptions, binding);
    }

    /// <summary>The ONNX model of one Gather along the batch axis, for float tensors of any rank.</summary>
    internal static byte[] GatherGraph()
    {
        static ValueInfoProto Tensor(string name, TensorProto.Types.DataType type) =>
            new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } };
        var graph = new GraphProto { Name = "gather_rows" };
        graph.Input.Add(Tensor(Data, TensorProto.Types.DataType.Float));
        graph.Input.Add(Tensor(Indices, TensorProto.Types.DataType.Int64));
        graph.Output.Add(Tensor(Output, TensorProto.Types.DataType.Float));
        var node = new NodeProto { OpType = "Gather", Name = "gather" };
        node.Input.Add(Data);
        node.Input.Add(Indices);
        node.Output.Add(Output);
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, ProducerName = "ScanService.Core", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
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
