using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace ScanService.Api.Tests.Metrics;

/// <summary>One sample line of the Prometheus text format: name, labels, value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A /metrics page in the Prometheus text format 0.0.4, parsed: every sample, and the TYPE, HELP and family of
/// every metric. Asked for explicitly, so that the page is not OpenMetrics (whose counters drop _total on TYPE).
/// </summary>
public sealed partial class PrometheusExposition
{
    private PrometheusExposition(List<MetricSample> samples, Dictionary<string, string> types, Dictionary<string, string> help)
    {
        Samples = samples;
        Types = types;
        Help = help;
    }

    public IReadOnlyList<MetricSample> Samples { get; }
    /// <summary>Metric family name → counter, gauge, histogram, summary or untyped.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }
    public IReadOnlyDictionary<string, string> Help { get; }

    public static async Task<PrometheusExposition> ScrapeAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("text/plain; version=0.0.4"));
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}: {text}");
        return Parse(text);
    }

    public static PrometheusExposition Parse(string text)
    {
        var samples = new List<MetricSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                types[parts[0]] = parts[1];
                continue;
            }
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                help[parts[0]] = parts.Length > 1 ? parts[1] : "";
                continue;
            }
            if (line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
                labels[label.Groups["name"].Value] = Regex.Unescape(label.Groups["value"].Value);
            samples.Add(new MetricSample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }
        return new PrometheusExposition(samples, types, help);
    }

    /// <summary>The samples of one series name (e.g. scan_exits_total, scan_exit_depth_bucket).</summary>
    public IEnumerable<MetricSample> Series(string name) => Samples.Where(s => s.Name == name);

    /// <summary>The one sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>, or 0 when none.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var matching = Series(name).Where(s => labels.All(l => s.Label(l.Label) == l.Value)).ToList();
        Assert.True(matching.Count <= 1, $"{matching.Count} series of {name} match {string.Join(", ", labels)}");
        return matching.Count == 0 ? 0 : matching[0].Value;
    }

    /// <summary>The family a sample belongs to: its own name, or the histogram/summary it is a _bucket, _sum or _count of.</summary>
    public string FamilyOf(string sampleName)
    {
        if (Types.ContainsKey(sampleName)) return sampleName;
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && Types.ContainsKey(sampleName[..^suffix.Length]))
                return sampleName[..^suffix.Length];
        }
        return sampleName;
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
