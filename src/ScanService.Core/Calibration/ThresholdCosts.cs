using ScanService.Core.Inference;

namespace ScanService.Core.Calibration;

/// <summary>A threshold set replayed over validation records: its accuracy and its mean cost per sample.</summary>
public readonly record struct Replay(double Accuracy, double MeanCost);

/// <summary>
/// The exit rule (<see cref="ExitRule"/>) replayed over validation records against a cost per graph: a sample that
/// leaves at exit k ran stages 1..k and the heads of exits 1..k that its thresholds keep on (θ ≤ 1; the answering exit's
/// always). The cost vectors may be multiply-adds or measured milliseconds: one rule, either unit.
/// </summary>
public sealed class ThresholdCosts(ValidationRecords records, IReadOnlyList<double> stageCost, IReadOnlyList<double> headCost)
{
    public ValidationRecords Records => records;

    public Replay Replay(ReadOnlySpan<float> thresholds)
    {
        var e = records.ExitCount;
        if (thresholds.Length < e - 1) throw new ArgumentException($"expected at least {e - 1} thresholds, got {thresholds.Length}");
        // Cost of answering at each exit under these thresholds.
        Span<double> at = stackalloc double[e];
        double running = 0;
        for (var k = 0; k < e; k++)
        {
            running += stageCost[k];
            var on = k == e - 1 || !ExitRule.SwitchedOff(thresholds[k]);
            at[k] = running + headCost[k];
            if (on && k < e - 1) running += headCost[k];
        }
        double cost = 0;
        var correct = 0;
        for (var s = 0; s < records.SampleCount; s++)
        {
            var k = 0;
            while (k < e - 1 && !ExitRule.Leaves(records.Confidence(s, k), thresholds[k])) k++;
            cost += at[k];
            if (records.IsCorrect(s, k)) correct++;
        }
        return new Replay((double)correct / records.SampleCount, cost / records.SampleCount);
    }

    /// <summary>
    /// The thresholds of least mean cost whose accuracy on the records is at least that of <paramref name="start"/>,
    /// found by coordinate descent from <paramref name="start"/> over each exit's candidate thresholds (its recorded
    /// confidences at 200 quantiles, 0, and "never"). Never worse than the start in cost or accuracy, since the start
    /// is where it begins and a move is taken only when it is cheaper and accurate enough. Deterministic.
    /// </summary>
    public float[] Cheapest(ReadOnlySpan<float> start, int quantiles = 200)
    {
        var e = records.ExitCount;
        var current = start[..e].ToArray();
        current[e - 1] = 0f;
        var target = Replay(current).Accuracy;
        var best = Replay(current).MeanCost;
        var candidates = Enumerable.Range(0, e - 1).Select(k => Candidates(k, quantiles)).ToArray();
        for (var sweep = 0; sweep < 20; sweep++)
        {
            var improved = false;
            for (var k = 0; k < e - 1; k++)
            {
                var keep = current[k];
                var bestValue = keep;
                foreach (var c in candidates[k])
                {
                    current[k] = c;
                    var r = Replay(current);
                    // Relative epsilon: a move must save something real, not rounding.
                    if (r.Accuracy >= target && r.MeanCost < best * (1 - 1e-9))
                    {
                        best = r.MeanCost;
                        bestValue = c;
                    }
                }
                current[k] = bestValue;
                improved |= bestValue != keep;
            }
            if (!improved) break;
        }
        return current;
    }

    private float[] Candidates(int exit, int quantiles)
    {
        var values = Enumerable.Range(0, records.SampleCount).Select(s => records.Confidence(s, exit)).Order().ToArray();
        var picked = new SortedSet<float> { 0f, ExitRule.NeverExit };
        for (var q = 1; q < quantiles; q++) picked.Add(values[(int)((long)q * (values.Length - 1) / quantiles)]);
        return [.. picked];
    }
}
