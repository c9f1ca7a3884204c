using System.IO.Compression;
using ScanService.Core.Bundle;
using ScanService.Core.Preprocessing;

namespace ScanService.Core.Tests.Inference;

/// <summary>Real Fashion-MNIST test images, normalised as a manifest says, read straight from the IDX file.</summary>
public static class TestImages
{
    private const string ImagesFile = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    private const string LabelsFile = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";

    private static readonly Lazy<byte[]> Pixels = new(() => ReadIdx(ImagesFile, headerBytes: 16));
    private static readonly Lazy<byte[]> LabelBytes = new(() => ReadIdx(LabelsFile, headerBytes: 8));

    public static int[] Labels(int count) => LabelBytes.Value.Take(count).Select(b => (int)b).ToArray();

    /// <summary>The first <paramref name="count"/> test images as N×1×28×28, normalised.</summary>
    public static float[] Normalised(InputSpec input, int count, int offset = 0)
    {
        const int size = 28 * 28;
        var normalization = ChannelNormalization.For(input);
        var result = new float[count * size];
        for (var i = 0; i < count; i++)
            normalization.Apply(Pixels.Value.AsSpan((offset + i) * size, size), result.AsSpan(i * size, size));
        return result;
    }

    private static byte[] ReadIdx(string path, int headerBytes)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray()[headerBytes..];
    }
}
