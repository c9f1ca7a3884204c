using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace ScanService.Core.Inference.Features;

/// <summary>Feature maps in pooled managed arrays.</summary>
internal sealed class ArrayFeatureStore(int fixedBatch = 0) : FeatureStore(fixedBatch)
{
    public override FeatureMemory Kind => FeatureMemory.Host;
    public override OrtMemoryInfo OutputLocation => OrtMemoryInfo.DefaultInstance;

    // A batch's feature maps are megabytes: a fresh array per graph made every call a large-object allocation,
    // and the gen-2 collections that followed cost more at batch 32 than chaining the graphs did.
    public override FeatureBlock Allocate(int rows, long[] rowShape) => FeatureBlock.Rented(ArrayPool<float>.Shared, rows, CapacityFor(rows), rowShape);

    public override void Gather(FeatureBlock source, ReadOnlySpan<int> sourceRows, FeatureBlock destination, int destinationRow)
    {
        for (var i = 0; i < sourceRows.Length; i++)
            source.HostRows(sourceRows[i], 1).CopyTo(destination.HostRows(destinationRow + i, 1));
    }
}
