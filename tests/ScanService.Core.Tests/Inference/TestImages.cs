
namespace ScanService.Core.Tests.Inference;

/// <summary>Real Fashion-MNIST test images, normalised as a manifest says.</summary>
public static class TestImages
{
    public static int[] Labels(int count) => FashionMnistTestSet.Labels(count);

    /// <summary>The first <paramref name="count"/> test images (from <paramref name="offset"/>) as N×1×28×28, normalised.</summary>
    public static float[] Normalised(InputSpec input, int count, int offset = 0)
    {
        const int size = FashionMnistTestSet.PixelsPerImage;
        var normalization = ChannelNormalization.For(input);
        var pixels = FashionMnistTestSet.PixelSpan(offset, count);
        var result = new float[count * size];
        for (var i = 0; i < count; i++)
            normalization.Apply(pixels.Slice(i * size, size), result.AsSpan(i * size, size));
        return result;
    }
}
