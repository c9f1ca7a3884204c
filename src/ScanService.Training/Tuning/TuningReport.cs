using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScanService.Training.Tuning;

/// <summary>One method's curve reduced to comparable numbers. Accuracies are fractions, costs relative.</summary>
/// <param name="Method">Display name.</param>
/// <param name="Source">The <see cref="PointSources"/> key.</param>
/// <param name="Points">Evaluated points the method produced.</param>
/// <param name="FrontPoints">Of which non-dominated.</param>
/// <param name="BestAccuracyAtCost">Per cost limit of the report: the best accuracy at cost ≤ limit, or null.</param>
/// <param name="CostToReachTarget">Least cost reaching the report's target accuracy, or null.</param>
/// <param name="MaxAccuracy">Best accuracy of the method.</param>
/// <param name="CostAtMaxAccuracy">The least cost at which it is reached.</param>
public sealed record MethodSummary(
    string Method,
    string Source,
    int Points,
    int FrontPoints,
    IReadOnlyList<double?> BestAccuracyAtCost,
    double? CostToReachTarget,
    double MaxAccuracy,
    double CostAtMaxAccuracy);

/// <summary>Comparison of the GA front with the baselines, as markdown for humans and JSON for tooling.</summary>
public sealed record TuningReport
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public required int SampleCount { get; init; }
    /// <summary>Validation samples held out of the search, on which the named points were judged too.</summary>
    public int HeldOutCount { get; init; }
    public required int ExitCount { get; init; }
    public required IReadOnlyList<double> ExitRelativeCosts { get; init; }
    public required double FullDepthAccuracy { get; init; }
    /// <summary>Full-depth accuracy minus <see cref="ReachTolerancePoints"/>.</summary>
    public required double TargetAccuracy { get; init; }
    public required double ReachTolerancePoints { get; init; }
    public required IReadOnlyList<double> CostLimits { get; init; }
    public required int GeneticEvaluations { get; init; }
    public required IReadOnlyList<MethodSummary> Methods { get; init; }
    public required IReadOnlyList<NamedOperatingPoint> OperatingPoints { get; init; }
    public required string DefaultOperatingPoint { get; init; }

    public static TuningReport Create(TuningResult result, IReadOnlyList<double>? costLimits = null, double reachTolerancePoints = 0.5)
    {
        ArgumentNullException.ThrowIfNull(result);
        costLimits ??= [0.3, 0.5, 0.7];
        double full = result.FullDepth.Accuracy;
        double target = full - (reachTolerancePoints / 100.0);

        var methods = new List<MethodSummary>
        {
            Summarise("GA front", PointSources.Genetic, result.GeneticFront.Points, costLimits, target),
            Summarise("Shared threshold (grid)", PointSources.Grid, result.GridSweep, costLimits, target),
            Summarise("MSDNet budgeted", PointSources.MsdNet, MsdPoints(result), costLimits, target),
        };
        for (int k = 0; k < result.SingleExits.Count; k++)
            methods.Add(Summarise($"Exit {k + 1} only", PointSources.SingleExit(k), [result.SingleExits[k]], costLimits, target));
        methods.Add(Summarise("Full depth (monolithic)", PointSources.FullDepth, [result.FullDepth], costLimits, target));

        return new TuningReport
        {
            SampleCount = result.SampleCount,
            HeldOutCount = result.HeldOutCount,
            ExitCount = result.ExitCount,
            ExitRelativeCosts = result.ExitRelativeCosts,
            FullDepthAccuracy = full,
            TargetAccuracy = target,
            ReachTolerancePoints = reachTolerancePoints,
            CostLimits = costLimits,
            GeneticEvaluations = result.GeneticEvaluations,
            Methods = methods,
            OperatingPoints = result.OperatingPoints,
            DefaultOperatingPoint = result.DefaultOperatingPoint,
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"## Threshold tuning ({SampleCount} validation samples searched, {ExitCount} exits)").AppendLine().AppendLine();
        if (HeldOutCount > 0)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{HeldOutCount} more validation samples were held out of the search: a named operating point must meet its rule (within its tolerance of full depth; `accurate`: at least full depth) on the searched and on the held-out samples, so that a threshold set that is best by chance on the searched ones is not chosen. Accuracy and cost of the named points are over all {SampleCount + HeldOutCount}.")
              .AppendLine().AppendLine();
        }
        sb.Append(CultureInfo.InvariantCulture, $"Full-depth accuracy {Pct(FullDepthAccuracy)}; target for \"cost to reach\": {Pct(TargetAccuracy)} (full depth − {Num(ReachTolerancePoints, "0.##")} points). ");
        sb.Append("Relative cost of each exit: ").Append(string.Join(", ", ExitRelativeCosts.Select((c, k) => $"exit {k + 1} {Cost(c)}"))).Append('.').AppendLine().AppendLine();

        sb.Append("| Method | Points | ");
        foreach (double limit in CostLimits)
            sb.Append(CultureInfo.InvariantCulture, $"Best acc. @ cost ≤ {Num(limit, "0.0#")} | ");
        sb.Append(CultureInfo.InvariantCulture, $"Cost to reach {Pct(TargetAccuracy)} | Max acc. (cost) |").AppendLine();
        sb.Append("|---|---:|");
        foreach (double _ in CostLimits)
            sb.Append("---:|");
        sb.Append("---:|---:|").AppendLine();
        foreach (MethodSummary m in Methods)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {m.Method} | {m.Points} | ");
            foreach (double? a in m.BestAccuracyAtCost)
                sb.Append(a is { } v ? Pct(v) : "—").Append(" | ");
            sb.Append(m.CostToReachTarget is { } c ? Cost(c) : "—").Append(" | ");
            sb.Append(CultureInfo.InvariantCulture, $"{Pct(m.MaxAccuracy)} ({Cost(m.CostAtMaxAccuracy)}) |").AppendLine();
        }

        sb.AppendLine().AppendLine("### Operating points").AppendLine();
        sb.Append("| Name | Thresholds | Val. accuracy | Relative cost | Exit shares | Found by |").AppendLine();
        sb.Append("|---|---|---:|---:|---|---|").AppendLine();
        foreach (NamedOperatingPoint p in OperatingPoints)
        {
            string name = string.Equals(p.Name, DefaultOperatingPoint, StringComparison.OrdinalIgnoreCase) ? $"**{p.Name}** (default)" : p.Name;
            string thresholds = string.Join(", ", p.Thresholds.Take(p.Thresholds.Length - 1).Select(t => t > 1f ? "never" : Num(t, "0.000")));
            string shares = string.Join(" / ", p.ExitShares.Select(s => Num(100 * s, "0.0")));
            sb.Append(CultureInfo.InvariantCulture, $"| {name} | {thresholds} | {Pct(p.ValidationAccuracy)} | {Cost(p.RelativeCost)} | {shares} % | {p.Source} |").AppendLine();
        }
        return sb.ToString();
    }

    private static IReadOnlyList<EvaluatedPoint> MsdPoints(TuningResult result)
    {
        var points = new EvaluatedPoint[result.MsdNet.Count];
        for (int i = 0; i < points.Length; i++)
            points[i] = result.MsdNet[i].Point;
        return points;
    }

    private static MethodSummary Summarise(string name, string source, IReadOnlyList<EvaluatedPoint> points, IReadOnlyList<double> costLimits, double target)
    {
        var front = new ParetoFront(points);
        var best = new double?[costLimits.Count];
        for (int i = 0; i < best.Length; i++)
            best[i] = front.BestAccuracyAtCost(costLimits[i] + 1e-12)?.Accuracy;
        EvaluatedPoint? top = front.MostAccurate;
        return new MethodSummary(
            name,
            source,
            points.Count,
            front.Count,
            best,
            front.CheapestWithAccuracy(target - 1e-12)?.RelativeCost,
            top?.Accuracy ?? 0,
            top?.RelativeCost ?? 0);
    }

    private static string Pct(double fraction) => Num(100 * fraction, "0.00") + " %";
    private static string Cost(double c) => Num(c, "0.000");
    private static string Num(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
