namespace ScanService.Core.Inference;

internal static class Softmax
{
    /// <summary>Writes softmax(<paramref name="logits"/>) into <paramref name="probabilities"/> and returns the arg max.</summary>
    public static int Compute(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        var max = float.NegativeInfinity;
        var arg = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (logits[i] > max) (max, arg) = (logits[i], i);
        }
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var e = Math.Exp(logits[i] - max);
            probabilities[i] = (float)e;
            sum += e;
        }
        for (var i = 0; i < logits.Length; i++) probabilities[i] = (float)(probabilities[i] / sum);
        return arg;
    }
}
