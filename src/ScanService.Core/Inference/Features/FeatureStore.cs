using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;

namespace ScanService.Core.Inference.Features;

/// <summary>
/// Allocates the engine's feature blocks and moves rows between them: with <see cref="Array.Copy(Array, int, Array, int, int)"/>
/// in host memory, with a one-node Gather graph on the device (so that compaction never leaves it).
/// </summary>
internal abstract class FeatureStore(int fixedBatch) : IDisposable
{
    /// <summary>
    /// The batch size every graph runs at, 0 for none: blocks then have room for a whole number of such batches
    /// (<see cref="FeatureBlock.Capacity"/>), so that a smaller batch runs padded in place.
    /// </summary>
    public int FixedBatch { get; } = fixedBatch >= 0 ? fixedBatch : throw new ArgumentOutOfRangeException(nameof(fixedBatch));

    /// <summary>Rows a block of <paramref name="rows"/> has room for: a whole number of fixed batches, or just the rows.</summary>
    protected int CapacityFor(int rows) => FixedBatch == 0 || rows == 0 ? rows : checked((rows + FixedBatch - 1) / FixedBatch * FixedBatch);

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

    /// <summary>
    /// The store for a bundle's feature maps, or null for pooled arrays, and why: under <see cref="FeatureMemory.Auto"/>
    /// device memory under CUDA and host arrays under CPU. Auto never costs the service its model: where device blocks
    /// cannot be had, host arrays still work.
    /// </summary>
    public static DeviceFeatureStore? ChooseDevice(ModelManifest manifest, ExecutionProviderChoice provider, FeatureMemory featureMemory, int fixedBatch, out string reason)
    {
        var unaligned = FirstUnalignedRow(manifest);
        switch (featureMemory)
        {
            case FeatureMemory.Host:
                reason = "host memory requested";
                return null;
            case FeatureMemory.Device when unaligned is not null:
                throw new InvalidOperationException($"device feature memory needs feature rows of a multiple of 16 bytes: {unaligned}");
            case FeatureMemory.Device:
                try
                {
                    reason = "device memory requested";
                    return DeviceFeatureStore.Create(provider, fixedBatch);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new InvalidOperationException($"device feature memory could not be set up: {OnnxSessions.FirstLine(e.Message)}", e);
                }
            case FeatureMemory.Auto when !provider.IsCuda:
                reason = "the CPU provider reads host arrays in place";
                return null;
            case FeatureMemory.Auto when unaligned is not null:
                reason = $"CUDA, but {unaligned}: views at row offsets would not be 16-byte aligned; features go through host memory";
                return null;
            default:
                try
                {
                    reason = "CUDA: features stay on the device, only logits come back";
                    return DeviceFeatureStore.Create(provider, fixedBatch);
                }
                catch (OnnxRuntimeException e)
                {
                    reason = $"CUDA device memory could not be set up ({OnnxSessions.FirstLine(e.Message)}); features go through host memory";
                    return null;
                }
        }
    }

    /// <summary>
    /// The first stage whose feature rows are not a multiple of 16 bytes, described, or null. Batches run on views that
    /// start at any row of a block, and device kernels may need 16-byte-aligned pointers; the blocks themselves are.
    /// </summary>
    private static string? FirstUnalignedRow(ModelManifest manifest) =>
        manifest.Stages.Select((s, k) => (Stage: k + 1, Bytes: FeatureBlock.Elements(s.Graph.Output.Shape.Skip(1)) * sizeof(float)))
            .Where(r => r.Bytes % 16 != 0)
            .Select(r => $"stage {r.Stage}'s rows are {r.Bytes} bytes")
            .FirstOrDefault();

    public virtual void Dispose()
    {
    }
}
