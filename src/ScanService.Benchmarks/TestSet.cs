using ScanService.Core.Bundle;
using ScanService.Core.Preprocessing;
using ScanService.Datasets;

namespace ScanService.Benchmarks;

/// <summary>
/// The first images of the Fashion-MNIST test split, as each client needs them: normalised tensors for the engine,
/// lossless PNGs for the service (which decode to the very same tensors), and the labels.
/// </summary>
public sealed class TestSet
{
    private readonly IdxImages _images;

    private TestSet(IdxImages images, int[] labels)
    {
        _images = images;
        Labels = labels;
    }

    public int[] Labels { get; }
    public int Count => Labels.Length;

    /// <summary>Reads the first <paramref name="limit"/> images of t10k-images-idx3-ubyte(.gz) and their labels.</summary>
    public static TestSet Load(string folder, int limit)
    {
        var split = FashionMnist.ReadTestSplit(folder);
        var n = Math.Min(limit, split.Count);
        var images = split.Images with { Pixels = split.Images.Pixels[..(n * split.Images.PixelsPerImage)], Count = n };
        return new TestSet(images, [.. split.Labels[..n].Select(b => (int)b)]);
    }

    /// <summary>Every image normalised as the manifest says, N×1×H×W.</summary>
    public float[] Normalised(InputSpec input)
    {
        if (input.Channels != 1 || input.Height != _images.Rows || input.Width != _images.Columns)
            throw new InvalidOperationException($"the bundle takes {input.Channels}x{input.Height}x{input.Width}; the test set is 1x{_images.Rows}x{_images.Columns}");
        var result = new float[_images.Pixels.Length];
        ChannelNormalization.For(input).Apply(_images.Pixels, result);
        return result;
    }

    /// <summary>Every image as a grey PNG: what an HTTP or gRPC client sends.</summary>
    public IReadOnlyList<byte[]> Pngs() => _images.Pngs(Count);
}
