using ScanService.Api.Degradation;
using static ScanService.Api.Tests.Degradation.DegradationPoints;

namespace ScanService.Api.Tests.Degradation;

/// <summary>The controller's decisions on synthetic load signals (objective 100 ms: degrade above 80, recover below 40 held for 1 s).</summary>
public sealed class DegradationControllerTests
{
    // balanced, front-03 (0.935), front-02 (0.92), fast (0.90), front-01 (0.88): four steps below the base.
    private static readonly Core.Bundle.ModelManifest Five = Manifest((0.88, 0.25), (0.92, 0.35), (0.935, 0.38));

    [Fact]
    public void A_step_up_in_load_moves_one_step_per_decision_down_to_the_cheapest_point_and_no_further()
    {
        var controller = Controller(Five);
        // 150 ms is over the line (80) but not twice over it: one step per decision.
        var levels = Enumerable.Range(1, 8).Select(i => controller.Decide(150, At(i * 200))).ToList();

        Assert.Equal([1, 2, 3, 4, 4, 4, 4, 4], levels);
        Assert.Equal("front-01", controller.Current!.Name);
    }

    [Fact]
    public void Far_over_the_line_it_takes_one_more_step_for_each_doubling()
    {
        var controller = Controller(Five);
        // 80 ms is the line: 170 ms is past one doubling (2 steps), 700 ms past three (4 steps, the whole ladder).
        Assert.Equal(2, controller.Decide(170, At(200)));
        Assert.Equal(4, Controller(Five).Decide(700, At(200)));
        // A refusal (+∞) goes to the bottom at once.
        Assert.Equal(4, Controller(Five).Decide(double.PositiveInfinity, At(200)));
        // Just over the line: one step.
        Assert.Equal(1, Controller(Five).Decide(81, At(200)));
    }

    [Fact]
    public void When_load_falls_it_returns_one_step_per_calm_period()
    {
        var controller = Controller(Five);
        for (var i = 1; i <= 4; i++) controller.Decide(250, At(i * 200));
        Assert.Equal(4, controller.Level);

        // Calm from 1 s on (below 40 ms): one step back up after each full second of calm, not sooner.
        var levels = new List<int>();
        for (var t = 1000; t <= 6000; t += 200) levels.Add(controller.Decide(10, At(t)));
        Assert.Equal(4, levels[4]); // 1.8 s: calm for 0.8 s
        Assert.Equal(3, levels[5]); // 2.0 s: calm for 1 s
        Assert.Equal(3, levels[9]); // 2.8 s: calm for 0.8 s since the last step
        Assert.Equal(2, levels[10]); // 3.0 s
        Assert.Equal(0, levels[^1]);
        Assert.Equal("balanced", controller.Current!.Name);
    }

    [Fact]
    public void A_signal_between_the_lines_holds_and_no_traffic_counts_as_calm()
    {
        var controller = Controller(Five);
        controller.Decide(150, At(0));
        // 60 ms is under the degrade line (80) but over the recover line (40): hold, however long.
        for (var t = 200; t <= 10_000; t += 200) Assert.Equal(1, controller.Decide(60, At(t)));
        // No requests measured at all: calm, so back to the base after a calm period.
        Assert.Equal(1, controller.Decide(null, At(10_200)));
        Assert.Equal(0, controller.Decide(null, At(11_200)));
    }

    [Fact]
    public void A_signal_that_oscillates_does_not_make_the_controller_oscillate()
    {
        var controller = Controller(Five);
        // Alternating spikes and calm every 200 ms: each spike restarts the calm period, so the controller never steps
        // back up while spikes keep coming; it only ever moves down.
        var levels = new List<int>();
        for (var i = 0; i < 40; i++) levels.Add(controller.Decide(i % 2 == 0 ? 90 : 5, At(i * 200)));
        var moves = levels.Zip(levels.Skip(1), (a, b) => b - a).Where(d => d != 0).ToList();
        Assert.All(moves, d => Assert.Equal(1, d));

        // Around the objective, between the two lines (50 and 70 ms): no move at all.
        var steady = Controller(Five);
        steady.Decide(150, At(0));
        var held = Enumerable.Range(1, 50).Select(i => steady.Decide(i % 2 == 0 ? 50 : 70, At(i * 100))).Distinct().ToList();
        Assert.Equal([1], held);
    }

    [Fact]
    public void The_live_accuracy_floor_takes_a_step_away_and_the_controller_leaves_it_at_once()
    {
        // The most accurate point is accurate (0.95): an agreement of a with full depth bounds accuracy below by 0.95 - (1 - a).
        var controller = Controller(Five, o => { o.AccuracyFloor = 0.89; o.MinAgreementSamples = 50; });
        for (var i = 1; i <= 3; i++) controller.Decide(250, At(i * 200));
        Assert.Equal("fast", controller.Current!.Name);

        // fast agrees with full depth on 90 % of sampled answers: accuracy ≥ 0.85, below the floor of 0.89.
        for (var i = 0; i < 100; i++) controller.RecordAgreement(null, "fast", agreed: i % 10 != 0);
        // front-02 agrees on 99 %: ≥ 0.94, above it.
        for (var i = 0; i < 100; i++) controller.RecordAgreement(null, "front-02", agreed: i != 0);

        // Still overloaded, yet the controller goes back up to front-02 and stays there.
        for (var t = 800; t <= 3000; t += 200) Assert.Equal(2, controller.Decide(250, At(t)));
        Assert.Equal("front-02", controller.Current!.Name);
        var blocked = Assert.Single(controller.State().Blocked);
        Assert.Equal("fast", blocked.OperatingPoint);
        Assert.Equal(0.85, blocked.EstimatedAccuracy, 6);
    }

    [Fact]
    public void The_validation_floor_is_never_crossed_however_long_the_overload()
    {
        var controller = Controller(Five, o => o.AccuracyFloor = 0.92);
        for (var t = 0; t < 20_000; t += 200)
        {
            controller.Decide(1000, At(t));
            Assert.True(controller.Current!.ValidationAccuracy >= 0.92);
        }
        Assert.Equal("front-02", controller.Current!.Name);
    }

    [Fact]
    public void Decisions_read_the_measured_percentile_of_the_requests_since_the_last_move()
    {
        var controller = Controller(Five, o => o.WindowMilliseconds = 60_000);
        // 99 fast requests and one slow one: p99 is the 99th value, fast; a 98/2 split makes p99 slow.
        for (var i = 0; i < 99; i++) controller.Record(TimeSpan.FromMilliseconds(5));
        controller.Record(TimeSpan.FromMilliseconds(150));
        controller.Tick();
        Assert.Equal(0, controller.Level);
        Assert.Equal(5, controller.State().SignalMilliseconds);

        controller.Record(TimeSpan.FromMilliseconds(150));
        controller.Tick();
        Assert.Equal(1, controller.Level);

        // After the move only newer requests count: none yet, so no decision (not another step down).
        controller.Tick();
        Assert.Equal(1, controller.Level);
        Assert.Equal(0, controller.State().Samples);

        // A refused request counts as over any objective: straight to the cheapest step.
        for (var i = 0; i < 10; i++) controller.RecordRefusal();
        controller.Tick();
        Assert.Equal(4, controller.Level);
    }

    [Fact]
    public void Disabled_or_without_a_model_it_changes_nothing()
    {
        var off = Controller(Five, o => o.Enabled = false);
        Assert.Null(off.Current);
        var none = Controller(Five with { DefaultOperatingPoint = null });
        Assert.Null(none.Current);
        Assert.Equal(0, none.Decide(1000, At(200)));
    }
}
