using System.Diagnostics;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks;

/// <summary>
/// Wall time of every stage and exit head of the chain beside the monolithic graph's, at one batch size, and what
/// that predicts for each mode: early exit saves wall time in proportion to the time of the graphs it skips, not
/// to their multiply-adds, and the two differ where a graph runs slower per multiply-add than the backbone.
/// </summary>
public sealed record GraphTimings(int BatchSize, double MonolithicMs, IReadOnlyList<double> StageMs, IReadOnlyList<double> HeadMs, IReadOnlyList<ModePrediction> Predictions)
{
    /// <summary>Medians over interleaved runs of the monolithic graph and of the chain with every head (the ensemble plan).</summary>
    public static GraphTimings Measure(EarlyExitEngine engine, float[] pixels, int batchSize, TimeSpan budget, IReadOnlyList<ModeReference> modes)
    {
        var input = pixels[..(batchSize * engine.SampleSize)];
        var everyHead = engine.Resolve(new InferenceOptions { Ensemble = true });
        var observer = new Recorder(engine.ExitCount);
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
            engine.Run(input, batchSize, everyHead, observer);
        }
        var stageMs = observer.Stages.Select(Median).ToList();
        var headMs = observer.Heads.Select(Median).ToList();
        var monolithicMs = Median(monolithic);
        var predictions = modes.Select(m => Predict(m, monolithicMs, stageMs, headMs, engine.ExitCount)).ToList();
        return new GraphTimings(batchSize, monolithicMs, stageMs, headMs, predictions);
    }

    /// <summary>
    /// A mode's time per image from the graphs' times and its exit distribution: under early exit an image that
    /// leaves at exit k ran stages 1..k and heads 1..k; at full depth, every stage and the last head.
    /// </summary>
    private static ModePrediction Predict(ModeReference mode, double monolithicMs, List<double> stageMs, List<double> headMs, int exits)
    {
        double time = mode.Mode switch
        {
            "monolithic" => monolithicMs,
            "full-depth" => stageMs.Sum() + headMs[exits - 1],
            _ => Enumerable.Range(0, exits).Sum(k => mode.ExitShares[k] * (stageMs.Take(k + 1).Sum() + headMs.Take(k + 1).Sum())),
        };
        return new ModePrediction(mode.Mode, mode.Label, monolithicMs / time, 1 / mode.RelativeCost);
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

/// <summary>The speedup over the monolithic graph that the graphs' wall times allow a mode, beside the one its multiply-adds promise.</summary>
public sealed record ModePrediction(string Mode, string Label, double WallClockSpeedup, double MultiplyAddReduction);
