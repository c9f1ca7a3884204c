using ScanService.Core.Calibration;

namespace ScanService.Core.Tests.Calibration;

/// <summary>The exit rule replayed against a cost per graph, and the search for the cheapest thresholds at least as accurate.</summary>
public sealed class ThresholdCostsTests
{
    /// <summary>
    /// Four samples, three exits. Confidences (exit 1, exit 2, exit 3) and correctness:
    /// s0 0.95 / 0.97 / 0.99 right everywhere; s1 0.60 / 0.90 / 0.99 wrong at exit 1 only;
    /// s2 0.50 / 0.60 / 0.80 right at exit 3 only; s3 0.40 / 0.95 / 0.90 right at exits 2 and 3.
    /// </summary>
    private static ValidationRecords Records() => new(4, 3,
        [0.95f, 0.97f, 0.99f, 0.60f, 0.90f, 0.99f, 0.50f, 0.60f, 0.80f, 0.40f, 0.95f, 0.90f],
        [true, true, true, false, true, true, false, false, true, false, true, true]);

    // Stages cost 10 each, heads 1 / 8 / 1: head 2 is dear.
    private static ThresholdCosts Costs() => new(Records(), [10, 10, 10], [1, 8, 1]);

    [Fact]
    public void A_sample_pays_for_the_stages_to_its_exit_and_the_heads_its_thresholds_keep_on()
    {
        // θ = 0.9 / 0.9: s0 leaves at 1 (11), s1 at 2 (10+1+10+8 = 29), s2 at 3 (30+1+8+1 = 40), s3 at 2 (29).
        var r = Costs().Replay([0.9f, 0.9f, 0f]);
        Assert.Equal((11 + 29 + 40 + 29) / 4.0, r.MeanCost, 12);
        Assert.Equal(1.0, r.Accuracy, 12);

        // Exit 2 off: its head never runs and nobody leaves there. s0 at 1 (11); s1, s2, s3 at 3 (30+1+1 = 32).
        var off = Costs().Replay([0.9f, ExitRule.NeverExit, 0f]);
        Assert.Equal((11 + 32 * 3) / 4.0, off.MeanCost, 12);
        Assert.Equal(1.0, off.Accuracy, 12);
    }

    [Fact]
    public void The_cheapest_thresholds_are_never_worse_than_the_start_in_cost_or_accuracy_and_switch_off_a_dear_head()
    {
        var costs = Costs();
        float[] start = [0.9f, 0.9f, 0f];
        var chosen = costs.Cheapest(start);
        var before = costs.Replay(start);
        var after = costs.Replay(chosen);

        Assert.True(after.Accuracy >= before.Accuracy);
        Assert.True(after.MeanCost < before.MeanCost, $"{after.MeanCost} not below {before.MeanCost}");
        // With head 2 at 8, skipping it (and sending s1, s3 to exit 3 for 2 more) is what pays.
        Assert.True(chosen[1] > 1f, $"exit 2 kept on at {chosen[1]}");
        Assert.Equal(0f, chosen[2]);

        // Cheap heads: exit 2 stays on, since it saves a stage for two samples.
        var cheap = new ThresholdCosts(Records(), [10, 10, 10], [1, 1, 1]);
        Assert.True(cheap.Cheapest(start)[1] <= 1f);
    }

    [Fact]
    public void Records_round_trip_and_a_broken_file_says_what_is_wrong()
    {
        var path = Path.Combine(Path.GetTempPath(), $"records-{Guid.NewGuid():N}.bin");
        try
        {
            var records = Records();
            records.Save(path);
            var back = ValidationRecords.Load(path);
            Assert.Equal((4, 3), (back.SampleCount, back.ExitCount));
            for (var s = 0; s < 4; s++)
            {
                for (var k = 0; k < 3; k++)
                {
                    Assert.Equal(records.Confidence(s, k), back.Confidence(s, k));
                    Assert.Equal(records.IsCorrect(s, k), back.IsCorrect(s, k));
                }
            }
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..30]);
            Assert.Contains("ends before", Assert.Throws<InvalidDataException>(() => ValidationRecords.Load(path)).Message);
            File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
            Assert.Contains("not a validation-records file", Assert.Throws<InvalidDataException>(() => ValidationRecords.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
