using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ScanService.Api.Metrics;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Metrics;

/// <summary>Every scan_* metric follows Prometheus' conventions: base units, _total on counters, few label values.</summary>
[Collection(MetricsCollection.Name)]
public sealed partial class MetricNamingTests(EveryInstrumentPage page) : IClassFixture<EveryInstrumentPage>
{
    private readonly PrometheusExposition _metrics = page.Metrics;
    private readonly ScanApiFactory _factory = page.Factory;

    private IEnumerable<KeyValuePair<string, string>> ScanFamilies =>
        _metrics.Types.Where(t => t.Key.StartsWith("scan_", StringComparison.Ordinal));

    [Fact]
    public void The_service_exports_its_metrics_under_the_scan_prefix()
    {
        Assert.Equal(
            ["scan_agreement_agreed_total", "scan_agreement_dropped_total", "scan_agreement_sampled_total", "scan_answers_degraded_total", "scan_batch_size",
             "scan_degradation_level", "scan_degradation_relative_cost", "scan_exit_depth", "scan_exit_head_duration_seconds", "scan_exits_total", "scan_model_info", "scan_queue_depth",
             "scan_queue_wait_seconds", "scan_request_duration_seconds", "scan_requests_rejected_total", "scan_stage_duration_seconds",
             "scan_stage_samples_total"],
            ScanFamilies.Select(f => f.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Counters_end_in_total_and_nothing_else_does()
    {
        foreach (var (name, type) in ScanFamilies)
            Assert.True(type == "counter" == name.EndsWith("_total", StringComparison.Ordinal), $"{name} is a {type}");
    }

    [Fact]
    public void Times_are_in_seconds()
    {
        foreach (var (name, _) in ScanFamilies)
        {
            Assert.DoesNotMatch(NonBaseTimeUnit(), name);
            if (TimeLike().IsMatch(name)) Assert.EndsWith("_seconds", name);
        }
    }

    [Fact]
    public void Info_metrics_are_gauges_of_one()
    {
        foreach (var (name, type) in ScanFamilies.Where(f => f.Key.EndsWith("_info", StringComparison.Ordinal)))
        {
            Assert.Equal("gauge", type);
            Assert.All(_metrics.Series(name), s => Assert.Equal(1, s.Value));
        }
    }

    [Fact]
    public void Every_metric_is_described()
    {
        foreach (var (name, _) in ScanFamilies)
            Assert.False(string.IsNullOrWhiteSpace(_metrics.Help.GetValueOrDefault(name)), $"{name} has no HELP");
    }

    [Fact]
    public void Labels_are_snake_case_and_take_only_values_from_small_known_sets()
    {
        var model = _factory.Model();
        var exits = Enumerable.Range(1, model.Engine.ExitCount).Select(e => e.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        var allowed = new Dictionary<string, Func<string, bool>>
        {
            ["otel_scope_name"] = v => v == ScanMetrics.MeterName,
            ["otel_scope_version"] = _ => true,
            ["model"] = v => v == model.Name,
            ["version"] = v => v == model.Version,
            ["execution_provider"] = v => v is OnnxSessions.CpuProvider or OnnxSessions.CudaProvider,
            ["feature_memory"] = v => v is "host" or "device",
            ["exits"] = exits.Contains,
            ["exit"] = exits.Contains,
            ["stage"] = exits.Contains,
            // The model's named points and the points of its front (graceful degradation's steps; a request may name any).
            ["operating_point"] = v => model.Manifest.AllOperatingPoints.Any(p => p.Name == v) || v is "fullDepth" or "ensemble" or ScanMetrics.NoOperatingPoint,
            ["front_end"] = v => v is "rest" or "v2" or "grpc",
            ["outcome"] = v => v is "ok" or "client_error" or "server_error" or "rejected" or "unavailable",
            ["le"] = v => v == "+Inf" || double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        };
        foreach (var sample in _metrics.Samples.Where(s => s.Name.StartsWith("scan_", StringComparison.Ordinal)))
        {
            foreach (var (label, value) in sample.Labels)
            {
                Assert.Matches(SnakeCase(), label);
                Assert.True(allowed.TryGetValue(label, out var isAllowed), $"{sample.Name} has label {label}, which no test bounds");
                Assert.True(isAllowed(value), $"{sample.Name}{{{label}=\"{value}\"}} is outside the label's known values");
            }
        }
        foreach (var family in _metrics.Samples.Where(s => s.Name.StartsWith("scan_", StringComparison.Ordinal)).GroupBy(s => _metrics.FamilyOf(s.Name)))
            Assert.True(family.Count() <= 300, $"{family.Key} has {family.Count()} series");
    }

    [Fact]
    public void Histograms_have_explicit_buckets_of_their_own()
    {
        var requestBounds = Bounds("scan_request_duration_seconds_bucket");
        Assert.Equal(0.001, requestBounds[0]);
        Assert.Equal(10, requestBounds[^1]);
        // Stages run in well under a millisecond on small inputs: their buckets go far below the request's.
        Assert.True(Bounds("scan_stage_duration_seconds_bucket")[0] < 0.001);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 512], Bounds("scan_batch_size_bucket"));
    }

    [RequiresPrometheusFact]
    public void Promtool_finds_nothing_to_lint_in_the_scan_metrics()
    {
        var promtool = PrometheusServer.Find("promtool")!;
        var page = string.Join('\n', _metrics.Samples.Where(s => s.Name.StartsWith("scan_", StringComparison.Ordinal)).Select(s => _metrics.FamilyOf(s.Name)).Distinct()
            .SelectMany(family => new[] { $"# HELP {family} {_metrics.Help[family]}", $"# TYPE {family} {_metrics.Types[family]}" }
                .Concat(_metrics.Samples.Where(s => _metrics.FamilyOf(s.Name) == family).Select(Line)))) + "\n";
        using var process = Process.Start(new ProcessStartInfo(promtool, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.StandardInput.Write(page);
        process.StandardInput.Close();
        var findings = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, findings);
    }

    private double[] Bounds(string bucketSeries) => _metrics.Series(bucketSeries).Select(s => s.Label("le")!).Where(le => le != "+Inf")
        .Select(le => double.Parse(le, CultureInfo.InvariantCulture)).Distinct().Order().ToArray();

    private static string Line(MetricSample sample) =>
        sample.Name + (sample.Labels.Count == 0 ? "" : "{" + string.Join(',', sample.Labels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "}")
        + " " + sample.Value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex SnakeCase();

    [GeneratedRegex("_(milliseconds|ms|microseconds|us|nanoseconds|ns|minutes|hours)(_|$)")]
    private static partial Regex NonBaseTimeUnit();

    [GeneratedRegex("(duration|wait|latency|time)")]
    private static partial Regex TimeLike();
}
