using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

/// <summary>
/// Named operating points judged on validation samples the search never saw, so that a threshold that is best on the
/// searched samples by chance does not become <c>accurate</c>.
/// </summary>
public class HeldOutSelectionTests
{
    private const int Samples = 4000;
    private const double Share = 0.3;
    private const int Seed = 2019;
    private static readonly long[] Costs = [40, 100];

    /// <summary>
    /// Two exits. Easy samples (exit 1 at 0.97, both exits right), hard ones (exit 1 at 0.30 and wrong, the deepest
    /// right on 80 %), and a band at exit-1 confidence 0.61 where exit 1 is right and the deepest wrong on the searched
    /// samples, and the reverse on the held-out ones: a threshold in (0.30, 0.61] looks better than full depth on the
    /// search and is worse on the held-out part.
    /// </summary>
    private static ExitOutputs FlukeRecords()
    {
        var heldOut = ThresholdTuner.HeldOutSplit(Samples, Share, Seed).HeldOut.ToHashSet();
        var confidence = new float[Samples * 2];
        var correct = new bool[Samples * 2];
        for (var i = 0; i < Samples; i++)
        {
            var (c, first, deepest) = (i % 10) switch
            {
                < 4 => (0.97f, true, true),
                < 9 => (0.30f, false, i % 50 < 40),
                _ => heldOut.Contains(i) ? (0.61f, false, true) : (0.61f, true, false),
            };
            confidence[2 * i] = c;
            confidence[2 * i + 1] = 0.9f;
            correct[2 * i] = first;
            correct[2 * i + 1] = deepest;
        }
        return new ExitOutputs(Samples, 2, confidence, correct, Costs, Costs[^1]);
    }

    private static EvaluatedPoint Point(ExitOutputs outputs, float threshold) => EarlyExitSimulator.Evaluate(outputs, [threshold, 0f], "t");

    [Fact]
    public void The_most_accurate_point_of_the_search_is_a_fluke_that_the_held_out_samples_refuse()
    {
        var all = FlukeRecords();
        var (searched, kept) = ThresholdTuner.HeldOutSplit(Samples, Share, Seed);
        var search = all.Subset(searched);
        var heldOut = all.Subset(kept);
        EvaluatedPoint[] candidates = [Point(search, 0.5f), Point(search, 0.8f), Point(search, 0.2f), Point(search, EarlyExitSimulator.NeverExit)];

        // Picked on the searched samples alone, "accurate" is the fluke: better than full depth there only.
        var front = new ParetoFront(candidates);
        var naive = OperatingPointSelector.Select(front, EarlyExitSimulator.Simulate(search, [EarlyExitSimulator.NeverExit, 0f]).Accuracy);
        Assert.Equal(0.5f, naive[2].Thresholds[0]);

        var robust = OperatingPointSelector.SelectOnHeldOut(candidates, search, heldOut, all);

        var accurate = robust.Single(p => p.Name == OperatingPointOptions.Accurate);
        Assert.Equal(0.8f, accurate.Thresholds[0]);
        var fullHeldOut = EarlyExitSimulator.Simulate(heldOut, [EarlyExitSimulator.NeverExit, 0f]).Accuracy;
        Assert.True(EarlyExitSimulator.Simulate(heldOut, accurate.Thresholds).Accuracy >= fullHeldOut);
        // Reported over the whole validation split, where the choice was made.
        Assert.Equal(EarlyExitSimulator.Simulate(all, accurate.Thresholds).Accuracy, accurate.ValidationAccuracy);
    }

    [Fact]
    public void The_tuner_holds_samples_out_of_the_search_and_picks_accurate_no_worse_than_full_depth_on_them()
    {
        var all = FlukeRecords();
        var options = new TuningOptions { Genetic = new GeneticSearchOptions { PopulationSize = 24, Generations = 15, Seed = 3 } };

        var result = ThresholdTuner.Run(all, options);

        Assert.Equal((int)Math.Round(Samples * Share), result.HeldOutCount);
        Assert.Equal(Samples - result.HeldOutCount, result.SampleCount);
        var accurate = result.Find(OperatingPointOptions.Accurate)!;
        // Not the fluke band (0.30, 0.61]: exit 1 takes only the easy samples, or none.
        Assert.True(accurate.Thresholds[0] > 0.61f, $"accurate took exit 1 at {accurate.Thresholds[0]}");
        var full = EarlyExitSimulator.Simulate(all, [EarlyExitSimulator.NeverExit, 0f]).Accuracy;
        Assert.True(accurate.ValidationAccuracy >= full, $"accurate {accurate.ValidationAccuracy:P2} is below full depth {full:P2}");
    }

    [Fact]
    public void The_search_can_switch_an_exit_off_even_where_its_softmax_reaches_exactly_one()
    {
        // Exit 1 is saturated (confidence exactly 1) and wrong on every sample: only a threshold above 1 keeps it quiet.
        const int n = 200;
        var confidence = new float[n * 2];
        var correct = new bool[n * 2];
        for (var i = 0; i < n; i++) (confidence[2 * i], confidence[2 * i + 1], correct[2 * i], correct[2 * i + 1]) = (1f, 0.9f, false, true);
        var outputs = new ExitOutputs(n, 2, confidence, correct, Costs, Costs[^1]);

        var result = new GeneticThresholdSearch(new GeneticSearchOptions { PopulationSize = 24, Generations = 20, Seed = 5 }).Run(outputs);

        var best = result.Front.MostAccurate!;
        Assert.Equal(1.0, best.Accuracy);
        Assert.Equal(EarlyExitSimulator.NeverExit, best.Thresholds[0]);
    }
}
