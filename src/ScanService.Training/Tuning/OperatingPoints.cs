using ScanService.Core.Bundle;

namespace ScanService.Training.Tuning;

/// <summary>How named operating points are picked from a front. Tolerances are in accuracy percentage points.</summary>
public sealed record OperatingPointOptions
{
    public const string Fast = "fast";
    public const string Balanced = "balanced";
    public const string Accurate = "accurate";

    /// <summary><c>fast</c>: the cheapest point at most this many points below full-depth accuracy.</summary>
    public double FastTolerancePoints { get; init; } = 2.0;
    /// <summary><c>balanced</c>: the cheapest point at most this many points below full-depth accuracy.</summary>
    public double BalancedTolerancePoints { get; init; } = 0.5;
    public string DefaultName { get; init; } = Balanced;

    public void Validate()
    {
        if (!(FastTolerancePoints >= 0) || !(BalancedTolerancePoints >= 0))
            throw new ArgumentOutOfRangeException(nameof(FastTolerancePoints), "Tolerances must be non-negative.");
        if (DefaultName is not (Fast or Balanced or Accurate))
            throw new ArgumentOutOfRangeException(nameof(DefaultName), DefaultName, $"Default must be {Fast}, {Balanced} or {Accurate}.");
    }
}

/// <summary>A named threshold set chosen on the validation split.</summary>
/// <param name="Name"><c>fast</c>, <c>balanced</c> or <c>accurate</c>.</param>
/// <param name="Thresholds">One per exit; the last is 0 and ignored.</param>
/// <param name="ValidationAccuracy">Fraction in [0, 1].</param>
/// <param name="RelativeCost">Mean multiply-adds on validation over the monolithic graph's.</param>
/// <param name="ExitShares">Share of validation samples answered by each exit.</param>
/// <param name="Source">Which method found these thresholds.</param>
public sealed record NamedOperatingPoint(string Name, float[] Thresholds, double ValidationAccuracy, double RelativeCost, double[] ExitShares, string Source)
{
    public static NamedOperatingPoint From(string name, EvaluatedPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        return new NamedOperatingPoint(name, (float[])point.Thresholds.Clone(), point.Accuracy, point.RelativeCost, (double[])point.ExitShares.Clone(), point.Source);
    }

    /// <summary>
    /// The manifest's form. With <paramref name="test"/> the same thresholds are replayed on the test split, so the
    /// manifest reports held-out numbers next to the validation ones they were chosen on.
    /// </summary>
    public OperatingPoint ToManifest(ExitOutputs? test = null)
    {
        SimulationResult? t = test is null ? null : EarlyExitSimulator.Simulate(test, Thresholds);
        return new OperatingPoint
        {
            Name = Name,
            Thresholds = (float[])Thresholds.Clone(),
            ValidationAccuracy = ValidationAccuracy,
            RelativeCost = RelativeCost,
            TestAccuracy = t?.Accuracy,
            TestRelativeCost = t?.RelativeCost,
            TestExitShares = t?.ExitShares,
        };
    }
}

public static class OperatingPointSelector
{
    /// <summary>
    /// Picks <c>fast</c>, <c>balanced</c> and <c>accurate</c> from <paramref name="front"/>. Full-depth accuracy is
    /// the reference the tolerances are measured from. When no point is close enough for a tolerance, the most
    /// accurate point stands in (a front that includes the deepest exit alone always has one).
    /// </summary>
    public static IReadOnlyList<NamedOperatingPoint> Select(ParetoFront front, double fullDepthAccuracy, OperatingPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(front);
        options ??= new OperatingPointOptions();
        options.Validate();
        EvaluatedPoint accurate = front.MostAccurate ?? throw new ArgumentException("The front is empty.", nameof(front));
        return
        [
            NamedOperatingPoint.From(OperatingPointOptions.Fast, CheapestWithin(front, fullDepthAccuracy, options.FastTolerancePoints) ?? accurate),
            NamedOperatingPoint.From(OperatingPointOptions.Balanced, CheapestWithin(front, fullDepthAccuracy, options.BalancedTolerancePoints) ?? accurate),
            NamedOperatingPoint.From(OperatingPointOptions.Accurate, accurate),
        ];
    }

    /// <summary>Cheapest front point with accuracy ≥ reference − tolerance (percentage points).</summary>
    public static EvaluatedPoint? CheapestWithin(ParetoFront front, double referenceAccuracy, double tolerancePoints)
    {
        ArgumentNullException.ThrowIfNull(front);
        // Accuracies are ratios of integers; the epsilon keeps "exactly 0.5 points below" on the right side of the line.
        return front.CheapestWithAccuracy(referenceAccuracy - (tolerancePoints / 100.0) - 1e-12);
    }

    /// <summary>
    /// Picks the named points so that a fluke of the search cannot decide them. Each candidate (found on
    /// <paramref name="search"/>) is judged again on <paramref name="heldOut"/>, validation samples the search never saw:
    /// <c>fast</c> and <c>balanced</c> are the cheapest candidates within their tolerance of full depth on both parts,
    /// <c>accurate</c> the cheapest at least as accurate as full depth on both. The deepest exit alone always
    /// qualifies, so every name gets a point. Accuracy and cost are then reported over <paramref name="all"/>.
    /// </summary>
    public static IReadOnlyList<NamedOperatingPoint> SelectOnHeldOut(IEnumerable<EvaluatedPoint> candidates, ExitOutputs search, ExitOutputs heldOut, ExitOutputs all, OperatingPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        options ??= new OperatingPointOptions();
        options.Validate();
        var deepest = EarlyExitSimulator.OnlyExit(all.ExitCount - 1, all.ExitCount);
        double fullSearch = EarlyExitSimulator.Simulate(search, deepest).Accuracy;
        double fullHeldOut = EarlyExitSimulator.Simulate(heldOut, deepest).Accuracy;
        var judged = candidates
            .Append(EarlyExitSimulator.Evaluate(search, deepest, PointSources.FullDepth))
            .Select(p => (
                Search: EarlyExitSimulator.Simulate(search, p.Thresholds).Accuracy,
                HeldOut: EarlyExitSimulator.Simulate(heldOut, p.Thresholds).Accuracy,
                All: EarlyExitSimulator.Evaluate(all, p.Thresholds, p.Source)))
            .ToList();

        EvaluatedPoint Cheapest(double tolerancePoints)
        {
            // Accuracies are ratios of integers; the epsilon keeps "exactly at the line" on the right side of it.
            double tolerance = (tolerancePoints / 100.0) + 1e-12;
            return judged
                .Where(j => j.Search >= fullSearch - tolerance && j.HeldOut >= fullHeldOut - tolerance)
                .OrderBy(j => j.All.RelativeCost)
                .ThenByDescending(j => j.All.Accuracy)
                .First().All;
        }

        return
        [
            NamedOperatingPoint.From(OperatingPointOptions.Fast, Cheapest(options.FastTolerancePoints)),
            NamedOperatingPoint.From(OperatingPointOptions.Balanced, Cheapest(options.BalancedTolerancePoints)),
            NamedOperatingPoint.From(OperatingPointOptions.Accurate, Cheapest(0)),
        ];
    }
}
