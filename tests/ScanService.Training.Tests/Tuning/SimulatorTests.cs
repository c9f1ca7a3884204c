using System.Diagnostics;
using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class SimulatorTests
{
    /// <summary>
    /// Three samples, three exits, cumulative costs 10 / 25 / 45, reference 40, thresholds 0.7 / 0.5:
    /// sample 0 leaves at exit 1 (0.9 ≥ 0.7, right, cost 10); sample 1 fails exit 1 (0.6) and leaves at exit 2
    /// on a tie (0.5 ≥ 0.5, wrong, cost 25); sample 2 fails both and the last exit answers (right, cost 45).
    /// Accuracy 2/3, mean cost 80/3, relative cost 80 / (3·40) = 2/3, one third per exit.
    /// </summary>
    private static ExitOutputs HandMade() => new(
        3, 3,
        [0.9f, 0.2f, 0.3f,
         0.6f, 0.5f, 0.99f,
         0.1f, 0.4f, 0.2f],
        [true, false, false,
         false, false, true,
         false, false, true],
        [10, 25, 45], 40);

    [Fact]
    public void HandMadeExample_MatchesHandComputation()
    {
        SimulationResult r = EarlyExitSimulator.Simulate(HandMade(), [0.7f, 0.5f, 0.99f]);

        Assert.Equal(3, r.SampleCount);
        Assert.Equal(2, r.CorrectCount);
        Assert.Equal(2.0 / 3.0, r.Accuracy, 12);
        Assert.Equal([1, 1, 1], r.ExitCounts);
        Assert.Equal(80.0 / 3.0, r.MeanCost, 12);
        Assert.Equal(2.0 / 3.0, r.RelativeCost, 12);
        Assert.All(r.ExitShares, s => Assert.Equal(1.0 / 3.0, s, 12));
    }

    [Fact]
    public void Heads_of_exits_switched_off_are_not_charged_when_their_costs_are_known()
    {
        ExitOutputs o = HandMade();
        // Heads cost 3, 4 and 5 of the 10, 15 and 20 each exit adds.
        var withHeads = new ExitOutputs(3, 3, o.Confidences.ToArray(), o.Correct.ToArray(), [10, 25, 45], 40, headCost: [3, 4, 5]);

        // Exit 1 off: sample 1 leaves at exit 2 (0.5 ≥ 0.5); samples 0 (0.2) and 2 (0.4) answer at exit 3.
        // Exit 2 now costs 25 - 3, exit 3 costs 45 - 3: (22 + 42 + 42) / 3.
        SimulationResult off = EarlyExitSimulator.Simulate(withHeads, [2f, 0.5f, 0f]);
        Assert.Equal([0, 1, 2], off.ExitCounts);
        Assert.Equal((22.0 + 42 + 42) / 3, off.MeanCost, 12);
        // Without head costs every head is charged, run or not.
        Assert.Equal((25.0 + 45 + 45) / 3, EarlyExitSimulator.Simulate(o, [2f, 0.5f, 0f]).MeanCost, 12);
        // Full depth: only the deepest head runs, 45 - 3 - 4.
        Assert.Equal(38, EarlyExitSimulator.Simulate(withHeads, EarlyExitSimulator.OnlyExit(2, 3)).MeanCost, 12);
        // Thresholds that switch nothing off cost what they always did.
        Assert.Equal(80.0 / 3.0, EarlyExitSimulator.Simulate(withHeads, [0.7f, 0.5f, 0f]).MeanCost, 12);
    }

    [Fact]
    public void LastThresholdIsIgnored_AndGenomeLengthIsAccepted()
    {
        ExitOutputs o = HandMade();
        SimulationResult full = EarlyExitSimulator.Simulate(o, [0.7f, 0.5f, 1f]);
        SimulationResult genome = EarlyExitSimulator.Simulate(o, [0.7f, 0.5f]);
        SimulationResult other = EarlyExitSimulator.Simulate(o, [0.7f, 0.5f, EarlyExitSimulator.NeverExit]);
        Assert.Equal(full.ExitCounts, genome.ExitCounts);
        Assert.Equal(full.ExitCounts, other.ExitCounts);
        Assert.Equal(full.RelativeCost, genome.RelativeCost);
    }

    [Fact]
    public void ZeroThresholds_EveryoneLeavesAtExitOne_NeverExit_EveryoneGoesDeep()
    {
        ExitOutputs o = HandMade();
        SimulationResult first = EarlyExitSimulator.Simulate(o, [0f, 0f]);
        Assert.Equal([3, 0, 0], first.ExitCounts);
        Assert.Equal(10.0 / 40.0, first.RelativeCost, 12);
        Assert.Equal(1.0 / 3.0, first.Accuracy, 12);

        SimulationResult deep = EarlyExitSimulator.Simulate(o, EarlyExitSimulator.OnlyExit(2, 3));
        Assert.Equal([0, 0, 3], deep.ExitCounts);
        Assert.Equal(45.0 / 40.0, deep.RelativeCost, 12);

        SimulationResult second = EarlyExitSimulator.Simulate(o, EarlyExitSimulator.OnlyExit(1, 3));
        Assert.Equal([0, 3, 0], second.ExitCounts);
    }

    [Fact]
    public void ExitTaken_AgreesWithCounts()
    {
        ExitOutputs o = TuningTestData.Realistic(3000, seed: 5);
        float[] t = [0.8f, 0.7f, 0.6f, 0f];
        int[] taken = EarlyExitSimulator.ExitTaken(o, t);
        SimulationResult r = EarlyExitSimulator.Simulate(o, t);
        var counts = new int[4];
        int correct = 0;
        for (int s = 0; s < taken.Length; s++)
        {
            counts[taken[s]]++;
            if (o.IsCorrect(s, taken[s]))
                correct++;
        }
        Assert.Equal(r.ExitCounts, counts);
        Assert.Equal(r.CorrectCount, correct);
    }

    [Fact]
    public void Evaluate_StoresFullLengthThresholdsWithZeroLast()
    {
        EvaluatedPoint p = EarlyExitSimulator.Evaluate(HandMade(), [0.7f, 0.5f], "test");
        Assert.Equal([0.7f, 0.5f, 0f], p.Thresholds);
        Assert.Equal(2.0 / 3.0, p.RelativeCost, 12);
    }

    [Fact]
    public void RejectsWrongThresholdCountAndNaN()
    {
        ExitOutputs o = HandMade();
        Assert.Throws<ArgumentException>(() => EarlyExitSimulator.Simulate(o, [0.5f]));
        Assert.Throws<ArgumentException>(() => EarlyExitSimulator.Simulate(o, [0.5f, 0.5f, 0.5f, 0.5f]));
        Assert.Throws<ArgumentException>(() => EarlyExitSimulator.Simulate(o, [float.NaN, 0.5f]));
    }

    [Fact]
    public void An_evaluation_allocates_nothing_so_a_search_of_thousands_costs_no_garbage()
    {
        // Speed is the benchmark's to measure (a timed test fails on a loaded machine); what makes the genetic search
        // cheap per evaluation, and what a change could silently break, is that the core allocates nothing.
        ExitOutputs o = TuningTestData.Realistic(10_000, seed: 1);
        var counts = new int[4];
        float[] t = [0.9f, 0.8f, 0.7f];
        EarlyExitSimulator.Run(o, t, counts); // warm-up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        int hits = 0;
        for (int i = 0; i < 200; i++)
            hits += EarlyExitSimulator.Run(o, t, counts);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, counts.Sum());
        Assert.InRange(hits, 1, 200 * 10_000);
    }
}
