using System.Text.RegularExpressions;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// Just enough of PromQL to list what an expression reads: the metric names it selects and the labels its
/// selectors match on. Strings, ranges, grouping clauses, function names and keywords are not metric names.
/// </summary>
internal static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
    };

    /// <summary>Metric names selected by <paramref name="expression"/> (Grafana variables allowed).</summary>
    public static IReadOnlySet<string> MetricNames(string expression) => Selectors(expression).Select(s => s.Metric).ToHashSet();

    /// <summary>Each selector as its metric name and the label names its matchers use.</summary>
    public static IReadOnlyList<(string Metric, IReadOnlyList<string> Labels)> Selectors(string expression)
    {
        // Grafana's label_values(metric{...}, label): the second argument is a label, not a metric.
        var labelValues = LabelValues().Match(expression);
        if (labelValues.Success) expression = labelValues.Groups["selector"].Value;

        var text = Strings().Replace(expression, "\"\"");
        text = Ranges().Replace(text, "");
        text = Grouping().Replace(text, "");
        var selectors = new List<(string, IReadOnlyList<string>)>();
        // A name and the matcher block that follows it are one match, so the labels inside are never taken for names.
        foreach (Match m in Selector().Matches(text))
        {
            var name = m.Groups["name"].Value;
            if (Keywords.Contains(name) || text[(m.Index + m.Length)..].TrimStart().StartsWith('(')) continue;
            var labels = Matcher().Matches(m.Groups["matchers"].Value).Select(x => x.Groups["label"].Value).ToList();
            selectors.Add((name, labels));
        }
        return selectors;
    }

    /// <summary>The labels of every by (...) and without (...) clause of <paramref name="expression"/>.</summary>
    public static IReadOnlySet<string> GroupingLabels(string expression) =>
        GroupBy().Matches(Strings().Replace(expression, "\"\""))
            .SelectMany(m => m.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet();

    [GeneratedRegex(@"\b(by|without)\s*\((?<labels>[^)]*)\)")]
    private static partial Regex GroupBy();

    [GeneratedRegex(@"^\s*label_values\(\s*(?<selector>.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w:.$])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<matchers>\s*\{[^}]*\})?")]
    private static partial Regex Selector();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)")]
    private static partial Regex Matcher();
}
