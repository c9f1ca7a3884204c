
namespace ScanService.Api.Tests.Metrics;

/// <summary>The Grafana dashboard reads only what the service exports, with labels the metrics have.</summary>
[Collection(MetricsCollection.Name)]
public sealed class DashboardTests(EveryInstrumentPage page) : IClassFixture<EveryInstrumentPage>
{
    private readonly PrometheusExposition _metrics = page.Metrics;

    public static string DashboardPath => Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "scanservice-dashboard.json");

    [Fact]
    public void Every_query_of_the_dashboard_reads_metrics_the_service_exports()
    {
        var exported = _metrics.Samples.Select(s => s.Name).ToHashSet();
        var queries = Queries().ToList();
        Assert.NotEmpty(queries);
        foreach (var (where, query) in queries)
        {
            var names = PromQl.MetricNames(query);
            Assert.True(names.Count > 0, $"{where}: no metric in '{query}'");
            foreach (var name in names) Assert.True(exported.Contains(name), $"{where}: '{name}' is not on /metrics ({query})");
        }
    }

    [Fact]
    public void Every_label_a_dashboard_query_matches_on_is_a_label_of_that_metric()
    {
        foreach (var (where, query) in Queries())
        {
            foreach (var (metric, labels) in PromQl.Selectors(query))
            {
                var known = _metrics.Series(metric).SelectMany(s => s.Labels.Keys).Concat(EveryInstrumentPage.TargetLabels).ToHashSet();
                foreach (var label in labels) Assert.True(known.Contains(label), $"{where}: {metric} has no label '{label}' ({query})");
            }
        }
    }

    [Fact]
    public void Every_label_a_dashboard_query_groups_by_is_a_label_of_a_metric_it_reads()
    {
        foreach (var (where, query) in Queries())
        {
            var known = PromQl.MetricNames(query).SelectMany(m => _metrics.Series(m)).SelectMany(s => s.Labels.Keys).Concat(EveryInstrumentPage.TargetLabels).ToHashSet();
            foreach (var label in PromQl.GroupingLabels(query)) Assert.True(known.Contains(label), $"{where}: no metric has label '{label}' ({query})");
        }
    }

    [Fact]
    public void The_dashboard_shows_exit_depth_agreement_latency_errors_batches_queue_and_degradation()
    {
        var read = Queries().SelectMany(q => PromQl.MetricNames(q.Query)).ToHashSet();
        foreach (var needed in new[]
        {
            "scan_exits_total", "scan_exit_depth_sum", "scan_agreement_agreed_total", "scan_agreement_sampled_total",
            "scan_request_duration_seconds_bucket", "scan_request_duration_seconds_count", "scan_stage_duration_seconds_bucket",
            "scan_exit_head_duration_seconds_bucket", "scan_batch_size_sum", "scan_queue_depth", "scan_queue_wait_seconds_bucket",
            "scan_requests_rejected_total", "scan_model_info", "scan_degradation_level", "scan_degradation_relative_cost",
            "scan_answers_degraded_total",
        })
        {
            Assert.Contains(needed, read);
        }
    }

    [Fact]
    public void Panels_use_the_dashboards_data_source_variable()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        foreach (var panel in Panels(dashboard.RootElement).Where(p => p.GetProperty("type").GetString() != "row"))
        {
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.NotEqual(0, panel.GetProperty("targets").GetArrayLength());
        }
    }

    /// <summary>Every PromQL query: each panel target's expr and each query variable's query, with where it is.</summary>
    internal static IEnumerable<(string Where, string Query)> Queries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var queries = new List<(string, string)>();
        foreach (var panel in Panels(dashboard.RootElement))
        {
            if (!panel.TryGetProperty("targets", out var targets)) continue;
            foreach (var target in targets.EnumerateArray())
                queries.Add(($"panel '{panel.GetProperty("title").GetString()}'", target.GetProperty("expr").GetString()!));
        }
        foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() != "query") continue;
            var query = variable.GetProperty("query");
            queries.Add(($"variable '{variable.GetProperty("name").GetString()}'",
                query.ValueKind == JsonValueKind.String ? query.GetString()! : query.GetProperty("query").GetString()!));
        }
        return queries;
    }

    internal static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray()) yield return inner;
            }
        }
    }
}
