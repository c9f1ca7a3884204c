using ScanService.Core.Bundle;

namespace ScanService.Api.Degradation;

/// <summary>
/// The steps the controller may take for one model, from the base point (step 0, not degraded) down to the cheapest
/// point it may serve. Built from the bundle's named points and its whole front: each step is cheaper and no more
/// accurate than the one before (dominated points are never served), none is below the accuracy floor, and the front
/// is thinned evenly by cost to at most <see cref="DegradationOptions.MaxSteps"/> steps below the base.
/// </summary>
public sealed class DegradationLadder
{
    private DegradationLadder(IReadOnlyList<OperatingPoint> steps, string? reason)
    {
        Steps = steps;
        Reason = reason;
    }

    /// <summary>Step 0 is the base point; later steps are cheaper. Empty when the model offers nothing to degrade from.</summary>
    public IReadOnlyList<OperatingPoint> Steps { get; }

    /// <summary>Why there is no cheaper step, when there is none: for /v1/model and the log.</summary>
    public string? Reason { get; }

    /// <summary>The deepest step: how far the controller may go.</summary>
    public int MaxLevel => Math.Max(0, Steps.Count - 1);

    public static DegradationLadder Empty(string reason) => new([], reason);

    /// <summary>The ladder for <paramref name="manifest"/> under <paramref name="options"/>.</summary>
    public static DegradationLadder For(ModelManifest manifest, DegradationOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(options);
        var baseName = string.IsNullOrWhiteSpace(options.BaseOperatingPoint) ? manifest.DefaultOperatingPoint : options.BaseOperatingPoint;
        if (baseName is null) return Empty("the model has no default operating point and none is configured as the base");
        var basePoint = manifest.FindOperatingPoint(baseName);
        if (basePoint is null) return Empty($"the base operating point '{baseName}' is not one of the model's");

        var floor = options.AccuracyFloor ?? 0;
        // Cheaper than the base and above the floor; among points of equal cost the most accurate; then, walking from
        // the base towards the cheapest, each kept point must also be less accurate than the one before: a point
        // cheaper and at least as accurate as another makes the other pointless.
        var candidates = manifest.AllOperatingPoints
            .Where(p => p.RelativeCost < basePoint.RelativeCost && p.ValidationAccuracy >= floor && p.RelativeCost > 0)
            .GroupBy(p => p.RelativeCost)
            .Select(g => g.OrderByDescending(p => p.ValidationAccuracy).First())
            .OrderBy(p => p.RelativeCost)
            .ToList();
        var front = new List<OperatingPoint>();
        foreach (var p in candidates)
        {
            // Cheapest first: a point is kept only if it is more accurate than every cheaper point kept.
            if (front.Count == 0 || p.ValidationAccuracy > front[^1].ValidationAccuracy) front.Add(p);
        }
        front.Reverse();
        if (front.Count == 0)
            return new DegradationLadder([basePoint], $"no point of the model is cheaper than '{basePoint.Name}'{(options.AccuracyFloor is null ? "" : " and above the accuracy floor")}");

        var steps = new List<OperatingPoint> { basePoint };
        steps.AddRange(Thin(front, basePoint.RelativeCost, options.MaxSteps));
        return new DegradationLadder(steps, null);
    }

    /// <summary>
    /// At most <paramref name="max"/> of <paramref name="front"/> (most costly first), the cheapest always among them,
    /// the others the nearest to evenly spaced costs between the base's and the cheapest's.
    /// </summary>
    private static IEnumerable<OperatingPoint> Thin(List<OperatingPoint> front, double baseCost, int max)
    {
        if (front.Count <= max) return front;
        var cheapest = front[^1].RelativeCost;
        var picked = new List<OperatingPoint>();
        for (var i = 1; i <= max; i++)
        {
            var target = baseCost - (baseCost - cheapest) * i / max;
            var nearest = front.Where(p => !picked.Contains(p)).MinBy(p => Math.Abs(p.RelativeCost - target))!;
            picked.Add(nearest);
        }
        return picked.OrderByDescending(p => p.RelativeCost);
    }
}
