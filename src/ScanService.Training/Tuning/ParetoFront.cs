namespace ScanService.Training.Tuning;

/// <summary>A threshold set evaluated on the validation split.</summary>
/// <param name="Thresholds">One per exit; the last is ignored and stored as 0.</param>
/// <param name="Accuracy">Fraction in [0, 1].</param>
/// <param name="RelativeCost">Mean multiply-adds over the monolithic graph's.</param>
/// <param name="ExitShares">Fraction of samples answered by each exit.</param>
/// <param name="Source">Which method produced it (see <see cref="PointSources"/>).</param>
public sealed record EvaluatedPoint(float[] Thresholds, double Accuracy, double RelativeCost, double[] ExitShares, string Source)
{
    /// <summary>At least as accurate and at most as costly, and strictly better in one of the two.</summary>
    public bool Dominates(EvaluatedPoint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Accuracy >= other.Accuracy && RelativeCost <= other.RelativeCost
            && (Accuracy > other.Accuracy || RelativeCost < other.RelativeCost);
    }
}

/// <summary>Names used in <see cref="EvaluatedPoint.Source"/>, reports and plots.</summary>
public static class PointSources
{
    public const string Genetic = "ga";
    public const string Grid = "grid";
    public const string MsdNet = "msdnet";
    public const string FullDepth = "full-depth";

    public static string SingleExit(int exit) => $"exit-{exit + 1}";
}

/// <summary>
/// Accuracy-vs-cost Pareto front: sorted by cost ascending with accuracy strictly increasing, so every point
/// buys accuracy with cost and none is dominated. Among equal points the first one offered is kept, which keeps
/// the front deterministic for a deterministic input order.
/// </summary>
public sealed class ParetoFront
{
    private readonly List<EvaluatedPoint> _points = [];

    public ParetoFront()
    {
    }

    public ParetoFront(IEnumerable<EvaluatedPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        foreach (EvaluatedPoint p in points)
            TryAdd(p);
    }

    public IReadOnlyList<EvaluatedPoint> Points => _points;
    public int Count => _points.Count;

    /// <summary>Inserts <paramref name="point"/> if nothing on the front dominates or equals it, dropping what it dominates.</summary>
    /// <returns>Whether the front changed.</returns>
    public bool TryAdd(EvaluatedPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (double.IsNaN(point.Accuracy) || double.IsNaN(point.RelativeCost))
            throw new ArgumentException("Point has NaN accuracy or cost.", nameof(point));

        // Last point no costlier than the candidate: it is the most accurate such point, so it alone decides dominance.
        int idx = LastIndexWithCostAtMost(point.RelativeCost);
        if (idx >= 0 && _points[idx].Accuracy >= point.Accuracy)
            return false;

        int insertAt = idx + 1;
        if (idx >= 0 && _points[idx].RelativeCost == point.RelativeCost)
        {
            // Same cost, lower accuracy: replaced.
            _points.RemoveAt(idx);
            insertAt = idx;
        }
        int end = insertAt;
        while (end < _points.Count && _points[end].Accuracy <= point.Accuracy)
            end++;
        _points.RemoveRange(insertAt, end - insertAt);
        _points.Insert(insertAt, point);
        return true;
    }

    /// <summary>Whether <see cref="TryAdd"/> would accept a point with these objectives; lets searches skip building losers.</summary>
    public bool WouldAccept(double accuracy, double relativeCost)
    {
        int idx = LastIndexWithCostAtMost(relativeCost);
        return idx < 0 || _points[idx].Accuracy < accuracy;
    }

    public void AddRange(IEnumerable<EvaluatedPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        foreach (EvaluatedPoint p in points)
            TryAdd(p);
    }

    /// <summary>Most accurate point whose cost is at most <paramref name="maxCost"/>, or null.</summary>
    public EvaluatedPoint? BestAccuracyAtCost(double maxCost)
    {
        int idx = LastIndexWithCostAtMost(maxCost);
        return idx >= 0 ? _points[idx] : null;
    }

    /// <summary>Cheapest point with accuracy at least <paramref name="minAccuracy"/>, or null.</summary>
    public EvaluatedPoint? CheapestWithAccuracy(double minAccuracy)
    {
        // Accuracy increases along the front, so the first point that qualifies is the cheapest.
        int lo = 0, hi = _points.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_points[mid].Accuracy >= minAccuracy)
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo < _points.Count ? _points[lo] : null;
    }

    /// <summary>The most accurate point; on a monotone front it is also the cheapest of equal accuracy.</summary>
    public EvaluatedPoint? MostAccurate => _points.Count > 0 ? _points[^1] : null;

    /// <summary>
    /// Hypervolume dominated by the front in (cost, accuracy) space against the reference corner
    /// (<paramref name="maxCost"/>, 0): one number to compare fronts; larger is better.
    /// </summary>
    public double Hypervolume(double maxCost)
    {
        double area = 0;
        for (int i = 0; i < _points.Count; i++)
        {
            double from = _points[i].RelativeCost;
            if (from >= maxCost)
                break;
            double to = i + 1 < _points.Count ? Math.Min(_points[i + 1].RelativeCost, maxCost) : maxCost;
            area += (to - from) * _points[i].Accuracy;
        }
        return area;
    }

    private int LastIndexWithCostAtMost(double cost)
    {
        int lo = 0, hi = _points.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_points[mid].RelativeCost <= cost)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo - 1;
    }
}
