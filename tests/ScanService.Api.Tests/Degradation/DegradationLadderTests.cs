using ScanService.Api.Degradation;
using static ScanService.Api.Tests.Degradation.DegradationPoints;

namespace ScanService.Api.Tests.Degradation;

/// <summary>The steps the controller may take: from the base down the front, never to a dominated point or below the floor.</summary>
public sealed class DegradationLadderTests
{
    [Fact]
    public void Steps_go_from_the_base_to_ever_cheaper_and_less_accurate_points_and_skip_dominated_ones()
    {
        // (0.93, 0.40) is dominated by (0.935, 0.38): cheaper and more accurate. fast (0.90, 0.30) is on the front too.
        var manifest = Manifest((0.88, 0.25), (0.92, 0.35), (0.935, 0.38), (0.93, 0.40), (0.95, 0.45));
        var ladder = DegradationLadder.For(manifest, new DegradationOptions());

        Assert.Equal("balanced", ladder.Steps[0].Name);
        // (0.95, 0.45) is cheaper than balanced but more accurate: it is the first step, and nothing after it may be as accurate.
        Assert.Equal(["balanced", "front-05", "front-03", "front-02", "fast", "front-01"], ladder.Steps.Select(s => s.Name));
        for (var k = 2; k < ladder.Steps.Count; k++)
        {
            Assert.True(ladder.Steps[k].RelativeCost < ladder.Steps[k - 1].RelativeCost);
            Assert.True(ladder.Steps[k].ValidationAccuracy < ladder.Steps[k - 1].ValidationAccuracy);
        }
        Assert.DoesNotContain(ladder.Steps, s => s.Name == "front-04");
    }

    [Fact]
    public void The_accuracy_floor_removes_every_step_below_it()
    {
        var manifest = Manifest((0.88, 0.25), (0.92, 0.35), (0.935, 0.38));
        var ladder = DegradationLadder.For(manifest, new DegradationOptions { AccuracyFloor = 0.91 });

        Assert.Equal(["balanced", "front-03", "front-02"], ladder.Steps.Select(s => s.Name));
        Assert.All(ladder.Steps, s => Assert.True(s.ValidationAccuracy >= 0.91));
    }

    [Fact]
    public void A_long_front_is_thinned_evenly_by_cost_and_keeps_its_cheapest_point()
    {
        // 40 points from cost 0.10 (accuracy 0.901) to 0.49 (0.940); they dominate fast (0.90 at 0.30).
        var front = Enumerable.Range(0, 40).Select(i => (0.901 + i * 0.001, 0.10 + i * 0.01)).ToArray();
        var ladder = DegradationLadder.For(Manifest(front), new DegradationOptions { MaxSteps = 4 });

        Assert.Equal(5, ladder.Steps.Count);
        Assert.Equal("front-01", ladder.Steps[^1].Name);
        // Targets 0.40, 0.30, 0.20, 0.10 of the span from 0.50 down to 0.10.
        Assert.Equal([0.40, 0.30, 0.20, 0.10], ladder.Steps.Skip(1).Select(s => Math.Round(s.RelativeCost, 2)));
    }

    [Fact]
    public void The_base_can_be_configured_and_without_one_there_is_nothing_to_degrade()
    {
        var manifest = Manifest((0.92, 0.35));
        var fromAccurate = DegradationLadder.For(manifest, new DegradationOptions { BaseOperatingPoint = "accurate" });
        Assert.Equal(["accurate", "balanced", "front-01", "fast"], fromAccurate.Steps.Select(s => s.Name));

        var none = DegradationLadder.For(manifest with { DefaultOperatingPoint = null }, new DegradationOptions());
        Assert.Empty(none.Steps);
        Assert.Contains("no default operating point", none.Reason);

        var unknown = DegradationLadder.For(manifest, new DegradationOptions { BaseOperatingPoint = "turbo" });
        Assert.Empty(unknown.Steps);
        Assert.Contains("'turbo'", unknown.Reason);
    }
}
