using YamlDotNet.Serialization;
using static ScanService.Api.Tests.Metrics.YamlDocuments;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// The alert rules: one plain rules file (deploy/prometheus/alerts.yaml, loaded by the compose Prometheus) and the same
/// groups as a PrometheusRule in the Kubernetes base; promtool checks them and runs their unit tests, which see every
/// alert fire and stay quiet.
/// </summary>
public sealed class AlertRulesTests
{
    internal static readonly string RulesFile = Path.Combine(RepositoryPaths.Root, "deploy", "prometheus", "alerts.yaml");
    private static readonly string UnitTests = Path.Combine(RepositoryPaths.Root, "deploy", "prometheus", "alerts.test.yaml");
    private static readonly string PrometheusRule = Path.Combine(DeployManifestTests.Base, "prometheusrule.yaml");
    private static readonly string Compose = Path.Combine(RepositoryPaths.Root, "deploy", "compose");

    [RequiresPrometheusFact]
    public void Promtool_checks_the_rules_file()
    {
        AssertPromtool("check", "rules", RulesFile);
    }

    [RequiresPrometheusFact]
    public void Promtool_passes_the_unit_tests_of_the_rules()
    {
        AssertPromtool("test", "rules", UnitTests);
    }

    [RequiresPrometheusFact]
    public void Promtool_checks_the_PrometheusRules_groups_as_a_rules_file()
    {
        using var folder = new TempFolder();
        var rules = folder.PathOf("prometheusrule-groups.yaml");
        File.WriteAllText(rules, new SerializerBuilder().Build().Serialize(new Dictionary<string, object?> { ["groups"] = Load(PrometheusRule).Single().At("spec", "groups") }));
        AssertPromtool("check", "rules", rules);
    }

    [RequiresPrometheusFact]
    public void The_compose_Prometheus_loads_the_rules_file_it_mounts()
    {
        // The files laid out as compose mounts them into /etc/prometheus, then promtool checks the configuration and
        // the rule files it names.
        using var folder = new TempFolder();
        var compose = Load(Path.Combine(Compose, "compose.yaml")).Single();
        var mounts = compose.Items("services", "prometheus", "volumes").Cast<string>()
            .Select(v => v.Split(':')).Where(v => v.Length >= 2 && v[1].StartsWith("/etc/prometheus/", StringComparison.Ordinal)).ToList();
        foreach (var mount in mounts) File.Copy(Path.Combine(Compose, mount[0]), folder.PathOf(mount[1]["/etc/prometheus/".Length..]));
        Assert.Contains(mounts, m => Path.GetFullPath(Path.Combine(Compose, m[0])) == RulesFile);

        var config = Load(folder.PathOf("prometheus.yml")).Single();
        Assert.Equal(["alerts.yaml"], config.Items("rule_files"));
        AssertPromtool("check", "config", folder.PathOf("prometheus.yml"));
    }

    [Fact]
    public void The_PrometheusRule_carries_the_groups_of_the_rules_file()
    {
        var plain = Load(RulesFile).Single().At("groups");
        var rule = Load(PrometheusRule).Single();
        Assert.Equal("monitoring.coreos.com/v1", rule.Text("apiVersion"));
        Assert.Equal("PrometheusRule", rule.Text("kind"));
        var serializer = new SerializerBuilder().Build();
        // Compared as YAML text of the parsed trees: comments and layout may differ, nothing else.
        Assert.True(serializer.Serialize(plain) == serializer.Serialize(rule.At("spec", "groups")),
            $"{PrometheusRule} has other groups than {RulesFile}: copy the groups of the rules file under spec:");
    }

    [Fact]
    public void The_rules_alert_on_errors_latency_refusals_drift_early_exits_readiness_and_long_degradation()
    {
        Assert.Equal(
            ["ScanServiceAgreementFalling", "ScanServiceDegradedForLong", "ScanServiceEarlyExitShareCollapsed", "ScanServiceHighErrorRatio", "ScanServiceHighLatencyP99",
             "ScanServiceModelNotReady", "ScanServiceRejectingRequests"],
            Alerts().Select(a => a.Text("alert")!).Order(StringComparer.Ordinal));
        foreach (var alert in Alerts())
        {
            Assert.Contains(alert.Text("labels", "severity") ?? "", new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Text("annotations", "summary")), alert.Text("alert"));
            Assert.False(string.IsNullOrWhiteSpace(alert.Text("annotations", "description")), alert.Text("alert"));
            Assert.False(string.IsNullOrEmpty(alert.Text("for")), $"{alert.Text("alert")} fires on one evaluation");
        }
    }

    [Fact]
    public void Every_alert_has_unit_tests_that_see_it_fire_and_see_it_stay_quiet()
    {
        var tests = Load(UnitTests).Single();
        Assert.Equal(Path.GetFileName(RulesFile), Assert.Single(tests.Items("rule_files")));
        var cases = tests.Items("tests").SelectMany(t => t.Items("alert_rule_test")).ToList();
        foreach (var alert in Alerts().Select(a => a.Text("alert")!))
        {
            var mine = cases.Where(c => c.Text("alertname") == alert).ToList();
            var firing = mine.Where(c => c.Items("exp_alerts").Count > 0).ToList();
            var quiet = mine.Where(c => c.Items("exp_alerts").Count == 0).ToList();
            Assert.True(firing.Count > 0, $"no unit test sees {alert} fire");
            Assert.True(quiet.Count > 0, $"no unit test sees {alert} stay quiet");
        }
    }

    internal static IReadOnlyList<object?> Alerts() =>
        Load(RulesFile).Single().Items("groups").SelectMany(g => g.Items("rules")).Where(r => r.Text("alert") is not null).ToList();

    private static void AssertPromtool(params string[] arguments)
    {
        var (exitCode, output, errors) = CommandLineTool.Run("promtool", arguments);
        Assert.True(exitCode == 0, $"promtool {string.Join(' ', arguments)} exited with {exitCode}:\n{output}\n{errors}");
    }

    private sealed class TempFolder : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("scanservice-alerts-").FullName;

        public string PathOf(string name) => Path.Combine(_root, name);

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
