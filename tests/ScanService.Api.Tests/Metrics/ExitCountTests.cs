
namespace ScanService.Api.Tests.Metrics;

/// <summary>After a known set of requests, /metrics counts exactly the answers each exit gave, per operating point.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ExitCountTests : IDisposable
{
    private const int Images = 12;
    // Agreement reruns are not answers and must not count; switching them off keeps the test about one thing.
    private readonly ScanApiFactory _factory = new ScanApiFactory().With("Metrics:AgreementSampleRate", "0");

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Exit_counters_and_histogram_match_the_exits_the_answers_report()
    {
        using var client = _factory.CreateClient();
        var pngs = FashionMnistTestSet.Pngs(Images);
        var expected = new Dictionary<(string Point, int Exit), int>();
        void Count(ClassifyResponse answer, string point) =>
            expected[(point, answer.Exit)] = expected.GetValueOrDefault((point, answer.Exit)) + 1;

        foreach (var png in pngs)
        {
            var byDefault = await client.ClassifyAsync(png);
            Count(byDefault, byDefault.OperatingPoint ?? "none");

            var fast = await client.ClassifyAsync(png, "?operatingPoint=fast");
            Count(fast, "fast");

            // The deepest allowed exit always answers when no earlier one fired: maxExit=1 answers at exit 1.
            var capped = await client.ClassifyAsync(png, "?maxExit=1");
            Assert.Equal(1, capped.Exit);
            Count(capped, capped.OperatingPoint ?? "none");

            var full = await client.ClassifyAsync(png, "?fullDepth=true");
            Assert.Equal(full.ExitCount, full.Exit);
            Count(full, "fullDepth");

            var ensemble = await client.ClassifyAsync(png, "?ensemble=true&maxExit=2");
            Assert.Equal(2, ensemble.Exit);
            Count(ensemble, "ensemble");
        }
        using (var batch = await client.PostAsync("/v1/classify/batch",
            Form(pngs.Take(4).Select((png, i) => ("images", $"{i}.png", png)).ToArray())))
        {
            foreach (var answer in (await OkJsonAsync<BatchClassifyResponse>(batch)).Results) Count(answer, answer.OperatingPoint ?? "none");
        }

        var metrics = await PrometheusExposition.ScrapeAsync(client);
        var model = _factory.Model();
        var points = model.Manifest.OperatingPoints.Select(p => p.Name).Concat(["fullDepth", "ensemble"]).ToList();
        foreach (var point in points)
        {
            for (var exit = 1; exit <= model.Engine.ExitCount; exit++)
            {
                var counted = metrics.Value("scan_exits_total", ("model", model.Name), ("operating_point", point), ("exit", $"{exit}"));
                Assert.True(expected.GetValueOrDefault((point, exit)) == counted,
                    $"{point}, exit {exit}: {expected.GetValueOrDefault((point, exit))} answers, scan_exits_total says {counted}");
            }
            var answers = expected.Where(e => e.Key.Point == point).ToList();
            Assert.Equal(answers.Sum(e => e.Value), metrics.Value("scan_exit_depth_count", ("operating_point", point)));
            Assert.Equal(answers.Sum(e => e.Value * e.Key.Exit), metrics.Value("scan_exit_depth_sum", ("operating_point", point)));
            for (var exit = 1; exit <= model.Engine.ExitCount; exit++)
                Assert.Equal(answers.Where(e => e.Key.Exit <= exit).Sum(e => e.Value),
                    metrics.Value("scan_exit_depth_bucket", ("operating_point", point), ("le", $"{exit}")));
        }
        Assert.Equal(Images * 5 + 4, metrics.Series("scan_exits_total").Sum(s => s.Value));
    }

    [Fact]
    public async Task Exit_depth_histogram_brackets_each_exit_so_that_quantiles_read_as_exits()
    {
        using var client = _factory.CreateClient();
        await client.ClassifyAsync(FashionMnistTestSet.Pngs(1)[0]);

        var metrics = await PrometheusExposition.ScrapeAsync(client);

        var exits = _factory.Model().Engine.ExitCount;
        var bounds = metrics.Series("scan_exit_depth_bucket").Select(s => s.Label("le")).Distinct().ToList();
        Assert.Equal(Enumerable.Range(1, exits).SelectMany(e => new[] { $"{e - 0.001:0.###}", $"{e}" }).Append("+Inf"), bounds);
    }

    [Fact]
    public async Task Model_info_names_the_model_version_exits_execution_provider_and_feature_memory()
    {
        using var client = _factory.CreateClient();

        var metrics = await PrometheusExposition.ScrapeAsync(client);

        var model = _factory.Model();
        var info = Assert.Single(metrics.Series("scan_model_info"));
        Assert.Equal(1, info.Value);
        Assert.Equal(model.Name, info.Label("model"));
        Assert.Equal(model.Version, info.Label("version"));
        Assert.Equal($"{model.Engine.ExitCount}", info.Label("exits"));
        Assert.Equal(OnnxSessions.CpuProvider, info.Label("execution_provider"));
        Assert.Equal("host", info.Label("feature_memory"));
    }
}
