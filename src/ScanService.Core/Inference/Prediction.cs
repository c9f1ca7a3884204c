namespace ScanService.Core.Inference;

/// <summary>One sample's answer: the class, its probability, and which exit (1-based) gave it.</summary>
public sealed record Prediction(int ClassIndex, float Confidence, int Exit, float[] Probabilities)
{
    /// <summary>The k most probable classes, most probable first.</summary>
    public IReadOnlyList<(int ClassIndex, float Probability)> Top(int k)
    {
        var order = Enumerable.Range(0, Probabilities.Length).OrderByDescending(i => Probabilities[i]).Take(Math.Max(1, k));
        return order.Select(i => (i, Probabilities[i])).ToList();
    }
}
