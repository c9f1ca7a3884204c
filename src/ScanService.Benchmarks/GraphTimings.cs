using ScanService.Core.Calibration;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks;

/// <summary>
/// Wall time of every stage and exit head of the chain beside the monolithic graph's, at one batch size, and what
/// that predicts for each mode: early exit saves wall time in proportion to the time of the graphs it skips, not
/// to their multiply-adds, and the two differ where a graph runs slower per multiply-add than the backbone.
/// </summary>
public sealed record GraphTimings(int BatchSize, double MonolithicMs, IReadOnlyList<double> StageMs, IReadOnlyList<double> HeadMs, IReadOnlyList<ModePrediction> Predictions)
{
    /// <summary>Medians over interleaved runs of the monolithic graph and of the chain with every head (<see cref="GraphTimes"/>).</summary>
    public static GraphTimings Measure(EarlyExitEngine engine, float[] pixels, int batchSize, TimeSpan budget, IReadOnlyList<ModeReference> modes)
    {
        var times = GraphTimes.Measure(engine, pixels, batchSize, budget);
        var stageMs = times.StageMs.ToList();
        var headMs = times.HeadMs.ToList();
        var predictions = modes.Select(m => Predict(m, times.MonolithicMs, stageMs, headMs, engine.ExitCount)).ToList();
        return new GraphTimings(batchSize, times.MonolithicMs, stageMs, headMs, predictions);
    }

    /// <summary>
    /// A mode's time per image from the graphs' times and its exit distribution: under early exit an image that
    /// leaves at exit k ran stages 1..k and the heads of 1..k its thresholds keep on; at full depth, every stage and the last head.
    /// </summary>
    private static ModePrediction Predict(ModeReference mode, double monolithicMs, List<double> stageMs, List<double> headMs, int exits)
    {
        double time = mode.Mode switch
        {
            "monolithic" => monolithicMs,
            "full-depth" => stageMs.Sum() + headMs[exits - 1],
            _ => Enumerable.Range(0, exits).Sum(k => mode.ExitShares[k] * (stageMs.Take(k + 1).Sum() + Enumerable.Range(0, k + 1).Where(j => j == k || HeadRuns(mode, j)).Sum(j => headMs[j]))),
        };
        return new ModePrediction(mode.Mode, mode.Label, monolithicMs / time, 1 / mode.RelativeCost);
    }

    /// <summary>Whether an early-exit mode runs exit <paramref name="exit"/>'s (0-based) head: not when its threshold switches it off.</summary>
    private static bool HeadRuns(ModeReference mode, int exit) => mode.Thresholds.Count == 0 || !ExitRule.SwitchedOff(mode.Thresholds[exit]);
}

/// <summary>The speedup over the monolithic graph that the graphs' wall times allow a mode, beside the one its multiply-adds promise.</summary>
public sealed record ModePrediction(string Mode, string Label, double WallClockSpeedup, double MultiplyAddReduction);
