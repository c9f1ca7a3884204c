
namespace ScanService.Core.Tests.Inference;

/// <summary>Plans and comparisons that several engine and batcher tests share.</summary>
internal static class EnginePlans
{
    /// <summary>
    /// Early exit with each exit's threshold at its median confidence on the first <paramref name="count"/> samples of
    /// <paramref name="pixels"/>, so samples leave at every depth and every exit compacts.
    /// </summary>
    public static ExitPlan MedianThresholds(EarlyExitEngine engine, float[] pixels, int count)
    {
        var thresholds = Enumerable.Range(1, engine.ExitCount)
            .Select(k => engine.Run(pixels, count, engine.Resolve(new InferenceOptions { FullDepth = true, MaxExit = k }))
                .Select(a => a.Confidence).Order().ElementAt(count / 2))
            .ToArray();
        return new ExitPlan(ExitMode.EarlyExit, thresholds, engine.ExitCount, "median");
    }

    /// <summary>The same class, exit, confidence and probabilities (within 1e-6).</summary>
    public static void AssertSame(Prediction expected, Prediction actual)
    {
        Assert.Equal((expected.ClassIndex, expected.Exit), (actual.ClassIndex, actual.Exit));
        Assert.Equal(expected.Confidence, actual.Confidence, 1e-6f);
        for (var c = 0; c < expected.Probabilities.Length; c++) Assert.Equal(expected.Probabilities[c], actual.Probabilities[c], 1e-6f);
    }
}
