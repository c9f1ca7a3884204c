namespace ScanService.Api.Tests.Metrics;

/// <summary>The alert rules read only metrics the service exports, matching and grouping on labels those metrics have.</summary>
[Collection(MetricsCollection.Name)]
public sealed class AlertMetricsTests(EveryInstrumentPage page) : IClassFixture<EveryInstrumentPage>
{
    private readonly PrometheusExposition _metrics = page.Metrics;

    [Fact]
    public void Every_alert_reads_metrics_the_service_exports_on_labels_they_have()
    {
        var exported = _metrics.Samples.Select(s => s.Name).ToHashSet();
        foreach (var alert in AlertRulesTests.Alerts())
        {
            var name = alert.Text("alert");
            var expression = alert.Text("expr")!;
            var selectors = PromQl.Selectors(expression);
            Assert.NotEmpty(selectors);
            foreach (var (metric, labels) in selectors)
            {
                Assert.True(exported.Contains(metric), $"{name}: '{metric}' is not on /metrics");
                var known = _metrics.Series(metric).SelectMany(s => s.Labels.Keys).Concat(EveryInstrumentPage.TargetLabels).ToHashSet();
                foreach (var label in labels) Assert.True(known.Contains(label), $"{name}: {metric} has no label '{label}'");
            }
            var read = PromQl.MetricNames(expression).SelectMany(m => _metrics.Series(m)).SelectMany(s => s.Labels.Keys).Concat(EveryInstrumentPage.TargetLabels).ToHashSet();
            foreach (var label in PromQl.GroupingLabels(expression)) Assert.True(read.Contains(label), $"{name}: no metric it reads has label '{label}'");
        }
    }

    [Fact]
    public void The_readiness_alert_reads_the_service_name_the_service_reports_with_or_without_a_model()
    {
        // target_info comes from OpenTelemetry's resource, which is there before any model loads.
        var target = Assert.Single(_metrics.Series("target_info"));
        Assert.Equal("scanservice", target.Label("service_name"));
        Assert.Contains("target_info{service_name=\"scanservice\"}", AlertRulesTests.Alerts().Single(a => a.Text("alert") == "ScanServiceModelNotReady").Text("expr"));
    }
}
