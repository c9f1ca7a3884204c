using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ScanService.Core.Inference.Features;

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

    private FeatureBlock(long[] rowShape, int rows, int capacity, float[]? array, int offset, ArrayPool<float>? pool,
        OrtMemoryAllocation? allocation = null, OrtMemoryInfo? location = null, DeviceFeatureStore? owner = null)
    {
        _rowShape = rowShape;
        RowSize = checked((int)Elements(rowShape));
        Rows = rows;
        Capacity = capacity;
        _array = array;
        _offset = offset;
        _pool = pool;
        _allocation = allocation;
        _location = location;
        _owner = owner;
    }

    /// <summary>Rows of a managed array the caller keeps (a request's pixels): never returned anywhere.</summary>
    public static FeatureBlock OverArray(float[] array, int offset, int rows, long[] rowShape) => new(rowShape, rows, rows, array, offset, null);

    /// <summary><paramref name="rows"/> rows in a pooled array with room for <paramref name="capacity"/>.</summary>
    internal static FeatureBlock Rented(ArrayPool<float> pool, int rows, int capacity, long[] rowShape)
    {
        return new FeatureBlock(rowShape, rows, capacity, pool.Rent(checked((int)(capacity * Elements(rowShape)))), 0, pool);
    }

    /// <summary>
    /// <paramref name="rows"/> rows, with room for <paramref name="capacity"/>, in memory from <paramref name="allocator"/>,
    /// which is at <paramref name="location"/>; <paramref name="owner"/> hears when they are freed.
    /// </summary>
    internal static FeatureBlock Allocated(OrtAllocator allocator, OrtMemoryInfo location, DeviceFeatureStore owner, int rows, int capacity, long[] rowShape)
    {
        var bytes = checked((uint)(capacity * Elements(rowShape) * sizeof(float)));
        return new FeatureBlock(rowShape, rows, capacity, null, 0, null, allocator.Allocate(Math.Max(bytes, 1u)), location, owner);
    }

    /// <summary>Elements of a tensor of <paramref name="shape"/>.</summary>
    internal static long Elements(IEnumerable<long> shape) => shape.Aggregate(1L, (a, d) => a * d);

    public int Rows { get; }
    /// <summary>
    /// Rows the memory has room for, at least <see cref="Rows"/>: a store that pads batches to a fixed size allocates
    /// whole batches, so that a graph can be bound to a full batch in place. Rows past <see cref="Rows"/> hold padding.
    /// </summary>
    public int Capacity { get; }
    /// <summary>Floats per row.</summary>
    public int RowSize { get; }
    /// <summary>Whether the rows are in host memory the process can read.</summary>
    public bool IsHost => _array is not null;

    // Readers still to come (the batcher's queued rows); the block is disposed when the last one releases it.
    private int _readers;

    /// <summary>Registers <paramref name="readers"/> more readers of the block's rows (one per row queued for a later stage).</summary>
    public void Retain(int readers = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Add(ref _readers, readers);
    }

    /// <summary>One reader is done; the last one disposes the block.</summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _readers);
        if (left < 0) throw new InvalidOperationException("a feature block was released more times than it was retained");
        if (left == 0) Dispose();
    }

    /// <summary>Whether no reader holds the block (what the batcher checks before it disposes a block it made).</summary>
    public bool Unread => Volatile.Read(ref _readers) == 0;

    /// <summary>The rows as host memory; only for a host block.</summary>
    public Span<float> HostRows(int first, int count) =>
        (_array ?? throw new InvalidOperationException("the rows are in device memory")).AsSpan(_offset + first * RowSize, count * RowSize);

    /// <summary>A tensor over rows [first, first + count) of this block, in place; rows past <see cref="Rows"/> (up to <see cref="Capacity"/>) are padding.</summary>
    public OrtValue View(int first, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first + count, Capacity);
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
