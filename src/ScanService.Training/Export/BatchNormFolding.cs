using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ScanService.Training.Export;

/// <summary>
/// Folds an eval-mode BatchNorm into the (bias-free) convolution before it: w' = w·γ/√(σ²+ε) per output
/// channel and b' = β − μ·γ/√(σ²+ε). Computed in double so that folding adds no visible error.
/// </summary>
public static class BatchNormFolding
{
    /// <param name="outputChannelAxis">0 for Conv weights [out, in, k, k]; 1 for ConvTranspose weights [in, out, k, k].</param>
    public static (float[] Weight, long[] Shape, float[] Bias) Fold(Tensor weight, BatchNorm2d norm, int outputChannelAxis)
    {
        var shape = weight.shape;
        var w = weight.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        var gamma = Values(norm.weight!);
        var beta = Values(norm.bias!);
        var mean = Values(norm.running_mean!);
        var variance = Values(norm.running_var!);
        var eps = norm.eps;
        var channels = gamma.Length;
        var scale = new double[channels];
        var bias = new float[channels];
        for (var o = 0; o < channels; o++)
        {
            scale[o] = gamma[o] / Math.Sqrt(variance[o] + eps);
            bias[o] = (float)(beta[o] - mean[o] * scale[o]);
        }
        // Elements per output-channel slice and the stride pattern depend on which axis holds output channels.
        var inner = shape.Skip(outputChannelAxis + 1).Aggregate(1L, (a, b) => a * b);
        var folded = new float[w.Length];
        for (var i = 0; i < w.Length; i++)
        {
            var o = (int)(i / inner % shape[outputChannelAxis]);
            folded[i] = (float)(w[i] * scale[o]);
        }
        return (folded, shape, bias);
    }

    public static float[] Values(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray();
}
