namespace ScanService.Training.Export;

/// <summary>How an attention module's upsampling is written in its ONNX graph. Every form computes the same values.</summary>
public enum AttentionGraphForm
{
    /// <summary>ConvTranspose (kernel 4, stride 2, padding 1), as the module is trained.</summary>
    ConvTranspose,
    /// <summary>A 3×3 convolution with four times the output channels, DepthToSpace (block 2, CRD) and a crop for odd sizes.</summary>
    ConvDepthToSpace,
}

/// <summary>
/// Rewrites the attention module's ConvTranspose (kernel 4, stride 2, padding 1) as a 3×3 convolution (padding 1)
/// with four output channels per channel, one per output phase, followed by DepthToSpace (Shi et al. 2016, "Is the
/// deconvolution layer the same as a convolutional layer?"). Output pixel (2m + a, 2n + b) of the transposed
/// convolution sums input taps (m + d, n + e), d, e ∈ {−1, 0, 1}, with its kernel's tap (a + 1 − 2d, b + 1 − 2e) where
/// that lies in 0..3; the convolution's output channel 4c + 2a + b holds exactly those taps for channel c, and the
/// other five of its nine taps are zero. The result covers 2h × 2w; a crop takes it to the target size, which is what
/// the transposed convolution's larger end padding does for odd sizes.
/// </summary>
public static class DeconvAsConv
{
    public const int Kernel = 4, Stride = 2, Padding = 1;

    /// <summary>Emits the rewritten upsampling of <paramref name="x"/> to <paramref name="height"/> x <paramref name="width"/>.</summary>
    public static string Emit(OnnxGraphBuilder g, string x, float[] deconvWeight, long[] deconvShape, float[] bias, long height, long width)
    {
        var (weight, shape, phaseBias) = Weights(deconvWeight, deconvShape, bias);
        var inShape = g.ShapeOf(x);
        // Counted as the transposed convolution's arithmetic: the zero taps are the new form's, not the model's.
        var counted = inShape[0] * inShape[1] * inShape[2] * deconvShape[1] * Kernel * Kernel;
        var phases = g.Conv(x, weight, shape, phaseBias, 1, [1, 1, 1, 1], counted);
        return g.CropTopLeft(g.DepthToSpace(phases, Stride), height, width);
    }

    /// <summary>
    /// The convolution's weights [4·out, in, 3, 3] and biases [4·out] from the transposed convolution's weights
    /// [in, out, 4, 4] (ONNX and torch order) and biases [out].
    /// </summary>
    public static (float[] Weight, long[] Shape, float[] Bias) Weights(float[] deconvWeight, long[] deconvShape, float[] bias)
    {
        if (deconvShape is not [var inChannels, var outChannels, Kernel, Kernel])
            throw new ArgumentException($"expected a [in, out, {Kernel}, {Kernel}] transposed-convolution weight, got [{string.Join(", ", deconvShape)}]");
        if (deconvWeight.Length != inChannels * outChannels * Kernel * Kernel || bias.Length != outChannels)
            throw new ArgumentException("weight or bias length does not match the shape");
        var weight = new float[4 * outChannels * inChannels * 9];
        var phaseBias = new float[4 * outChannels];
        for (long c = 0; c < outChannels; c++)
            for (var a = 0; a < 2; a++)
                for (var b = 0; b < 2; b++)
                {
                    var phaseChannel = c * 4 + a * 2 + b;
                    phaseBias[phaseChannel] = bias[c];
                    for (long i = 0; i < inChannels; i++)
                        for (var d = -1; d <= 1; d++)
                            for (var e = -1; e <= 1; e++)
                            {
                                int ky = a + Padding - Stride * d, kx = b + Padding - Stride * e;
                                if (ky is < 0 or >= Kernel || kx is < 0 or >= Kernel) continue;
                                weight[((phaseChannel * inChannels + i) * 3 + (d + 1)) * 3 + (e + 1)] =
                                    deconvWeight[((i * outChannels + c) * Kernel + ky) * Kernel + kx];
                            }
                }
        return (weight, [4 * outChannels, inChannels, 3, 3], phaseBias);
    }
}
