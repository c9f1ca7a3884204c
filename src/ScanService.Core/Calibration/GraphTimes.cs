using System.Diagnostics;
using ScanService.Core.Inference;

namespace ScanService.Core.Calibration;

/// <summary>
/// Wall time of every stage and exit head of the chain, and of the monolithic graph, at one batch size on the engine's
/// own execution provider: medians over interleaved runs, in milliseconds per batch. What early exit saves on a
/// machine is the time of the graphs it skips, not their multiply-adds; the two differ wherever a graph runs slower
/// per multiply-add than the backbone (on CPU the heads run at about a third of the backbone's rate).
/// </summary>
public sealed record GraphTimes(int BatchSize, double MonolithicMs, IReadOnlyList<double> StageMs, IReadOnlyList<double> HeadMs)
{
    /// <summary>Milliseconds per sample of each stage, each head and the monolithic graph.</summary>
    public double[] StagePerSample => StageMs.Select(t => t / BatchSize).ToArray();
    public double[] HeadPerSample => HeadMs.Select(t => t / BatchSize).ToArray();
    public double MonolithicPerSample => MonolithicMs / BatchSize;

    /// <summary>
    /// Runs the monolithic graph and the chain with every head (the ensemble plan) in turn on the first
    /// <paramref name="batchSize"/> samples of <paramref name="pixels"/> until <paramref name="budget"/> has passed
    /// (and at least 20 times each, after 20 warm-up runs).
    /// </summary>
    public static GraphTimes Measure(EarlyExitEngine engine, float[] pixels, int batchSize, TimeSpan budget)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (pixels.Length < batchSize * engine.SampleSize) throw new ArgumentException($"{batchSize} samples need {batchSize * engine.SampleSize} pixels, got {pixels.Length}");
        var input = pixels[..(batchSize * engine.SampleSize)];
        var everyHead = engine.Resolve(new InferenceOptions { Ensemble = true });
        var recorder = new Recorder(engine.ExitCount);
        var monolithic = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            engine.RunMonolithic(input, batchSize);
            engine.Run(input, batchSize, everyHead);
        }
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < budget || monolithic.Count < 20)
        {
            var started = Stopwatch.GetTimestamp();
            engine.RunMonolithic(input, batchSize);
            monolithic.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            engine.Run(input, batchSize, everyHead, recorder);
        }
        return new GraphTimes(batchSize, Median(monolithic), recorder.Stages.Select(Median).ToList(), recorder.Heads.Select(Median).ToList());
    }

    private static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);

    private sealed class Recorder(int exits) : IInferenceObserver
    {
        public List<double>[] Stages { get; } = Enumerable.Range(0, exits).Select(_ => new List<double>()).ToArray();
        public List<double>[] Heads { get; } = Enumerable.Range(0, exits).Select(_ => new List<double>()).ToArray();

        public void StageCompleted(int stage, int batchSize, TimeSpan duration) => Stages[stage - 1].Add(duration.TotalMilliseconds);

        public void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration) => Heads[exit - 1].Add(duration.TotalMilliseconds);
    }
}
