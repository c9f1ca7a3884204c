using System.Globalization;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// A real Prometheus scrapes the service, run as its own process, and PromQL over what it stored gives back the
/// exit-depth distribution that the answers themselves reported.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class PrometheusScrapeTests(ITestOutputHelper output)
{
    private const int Images = 20;

    [RequiresPrometheusFact]
    public async Task PromQL_over_scraped_metrics_gives_the_exit_depth_distribution_of_the_answers()
    {
        using var service = await ServiceProcess.StartAsync(ServiceUnderTest.Dll, RepositoryPaths.DefaultBundle, new Dictionary<string, string> { ["Metrics:AgreementSampleRate"] = "0" });
        using var prometheus = await PrometheusServer.StartAsync(service.Rest);
        using var client = service.Client();

        // Capped at exit 1 and forced to full depth, the exit is known in advance; by default it is whatever the answer says.
        var answered = new Dictionary<int, int>();
        var exits = 0;
        foreach (var png in FashionMnistTestSet.Pngs(Images))
        {
            foreach (var query in new[] { "", "?maxExit=1", "?fullDepth=true" })
            {
                var answer = await client.ClassifyAsync(png, query);
                if (query == "?maxExit=1") Assert.Equal(1, answer.Exit);
                if (query == "?fullDepth=true") Assert.Equal(answer.ExitCount, answer.Exit);
                answered[answer.Exit] = answered.GetValueOrDefault(answer.Exit) + 1;
                exits = answer.ExitCount;
            }
        }
        const int total = Images * 3;

        var byExit = await prometheus.QueryUntilAsync("sum by (exit) (scan_exits_total)", r => r.Sum(s => s.Value) >= total, TimeSpan.FromSeconds(60));
        var byBucket = await prometheus.QueryAsync("sum by (le) (scan_exit_depth_bucket)");
        output.WriteLine(Describe("sum by (exit) (scan_exits_total)", byExit, "exit"));
        output.WriteLine(Describe("sum by (le) (scan_exit_depth_bucket)", byBucket, "le"));

        for (var exit = 1; exit <= exits; exit++)
            Assert.Equal(answered.GetValueOrDefault(exit), byExit.Single(r => r.Labels["exit"] == $"{exit}").Value);
        Assert.Equal(total, byExit.Sum(r => r.Value));
        // Scraped as OpenMetrics, bucket bounds come back as floats: le="1.0".
        for (var exit = 1; exit <= exits; exit++)
        {
            Assert.Equal(answered.Where(a => a.Key <= exit).Sum(a => a.Value), byBucket.Single(r => Bound(r.Labels["le"]) == exit).Value);
            // The sliver just below each exit holds nothing of that exit.
            Assert.Equal(answered.Where(a => a.Key < exit).Sum(a => a.Value), byBucket.Single(r => Math.Abs(Bound(r.Labels["le"]) - (exit - 0.001)) < 1e-9).Value);
        }
        Assert.Equal(total, byBucket.Single(r => r.Labels["le"] == "+Inf").Value);
        Assert.Equal(2 * exits + 1, byBucket.Count);

        // Quantiles read as exits: the median of the answers' exits, within the sliver below it.
        var sorted = answered.OrderBy(a => a.Key).SelectMany(a => Enumerable.Repeat(a.Key, a.Value)).ToList();
        var median = sorted[(int)Math.Ceiling(0.5 * total) - 1];
        var quantile = Assert.Single(await prometheus.QueryAsync("histogram_quantile(0.5, sum by (le) (scan_exit_depth_bucket))")).Value;
        output.WriteLine($"histogram_quantile(0.5, ...) = {quantile}; median exit of the answers {median}");
        Assert.InRange(quantile, median - 0.001, median);
    }

    private static double Bound(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, NumberStyles.Float, CultureInfo.InvariantCulture);

    internal static string Describe(string promql, IEnumerable<(IReadOnlyDictionary<string, string> Labels, double Value)> result, string label) =>
        promql + "\n" + string.Join("\n", result
            .OrderBy(r => r.Labels.TryGetValue(label, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.MaxValue)
            .Select(r => $"  {label}={(r.Labels.TryGetValue(label, out var v) ? v : "")}  {r.Value.ToString("0.####", CultureInfo.InvariantCulture)}"));
}
