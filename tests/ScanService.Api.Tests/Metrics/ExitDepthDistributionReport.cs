using System.Globalization;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// Sends Fashion-MNIST test images through the service (its own process, default options) and prints what PromQL
/// says about the exit depths. Not part of the regular run: <c>dotnet test tests/ScanService.Api.Tests --filter
/// FullyQualifiedName~ExitDepthDistributionReport --logger "console;verbosity=detailed"</c>. SCAN_REPORT_IMAGES
/// (default 1000), SCAN_REPORT_BUNDLE (default the committed bundle) and SCAN_REPORT_QUERY (e.g. ?operatingPoint=fast)
/// choose what is sent.
/// </summary>
[Collection(MetricsCollection.Name)]
[Trait("Category", "Benchmark")]
public sealed class ExitDepthDistributionReport(ITestOutputHelper output)
{
    [RequiresPrometheusFact]
    public async Task Exit_depth_distribution_of_the_Fashion_MNIST_test_images()
    {
        var images = int.Parse(Environment.GetEnvironmentVariable("SCAN_REPORT_IMAGES") ?? "1000", CultureInfo.InvariantCulture);
        var query = Environment.GetEnvironmentVariable("SCAN_REPORT_QUERY") ?? "";
        using var service = await ServiceProcess.StartAsync(ServiceUnderTest.Dll, Environment.GetEnvironmentVariable("SCAN_REPORT_BUNDLE") ?? RepositoryPaths.DefaultBundle,
            new Dictionary<string, string> { ["Metrics:AgreementSampleRate"] = "0" });
        using var prometheus = await PrometheusServer.StartAsync(service.Rest);
        using var client = service.Client();

        var pngs = FashionMnistTestSet.Pngs(images);
        await Parallel.ForEachAsync(pngs, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (png, _) => await client.ClassifyAsync(png, query));

        var counts = await prometheus.QueryUntilAsync("sum by (exit) (scan_exits_total)", r => r.Sum(s => s.Value) >= images, TimeSpan.FromSeconds(60));
        Assert.Equal(images, counts.Sum(r => r.Value));
        var model = Assert.Single(await prometheus.QueryAsync("scan_model_info")).Labels;
        output.WriteLine($"{images} Fashion-MNIST test images, model {model["model"]} {model["version"]} ({model["execution_provider"]}), options '{query}'");
        foreach (var (promql, label) in new[]
        {
            ("sum by (exit) (scan_exits_total)", "exit"),
            ("sum by (exit) (scan_exits_total) / ignoring (exit) group_left sum(scan_exits_total)", "exit"),
            ("sum by (le) (scan_exit_depth_bucket)", "le"),
            ("sum(scan_exit_depth_sum) / sum(scan_exit_depth_count)", ""),
        })
        {
            output.WriteLine(PrometheusScrapeTests.Describe(promql, await prometheus.QueryAsync(promql), label));
        }
    }
}
