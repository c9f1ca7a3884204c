using static ScanService.Api.Tests.Metrics.YamlDocuments;

namespace ScanService.Api.Tests.Metrics;

/// <summary>The Kubernetes and compose files parse, and say what a deployment of the service needs.</summary>
[Collection(MetricsCollection.Name)]
public sealed class DeployManifestTests
{
    private static readonly string Deploy = Path.Combine(RepositoryPaths.Root, "deploy");
    internal static readonly string Kubernetes = Path.Combine(Deploy, "kubernetes");
    internal static readonly string Base = Path.Combine(Kubernetes, "base");
    internal static readonly string AdapterValues = Path.Combine(Kubernetes, "prometheus-adapter", "values.yaml");
    private static readonly string Compose = Path.Combine(Deploy, "compose");

    public static TheoryData<string> YamlFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "deploy"), "*.*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(RepositoryPaths.Root, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Parses_as_YAML_mappings(string file)
    {
        var documents = Load(Path.Combine(RepositoryPaths.Root, file));
        Assert.NotEmpty(documents);
        Assert.All(documents, d => Assert.IsType<Dictionary<object, object?>>(d));
    }

    [Fact]
    public void Base_kustomization_lists_every_manifest_beside_it_and_each_is_a_named_Kubernetes_object()
    {
        var kustomization = Single("kustomization.yaml");
        var resources = kustomization.Items("resources").Cast<string>().ToList();
        var kinds = new List<string>();
        foreach (var resource in resources)
        {
            var manifest = Single(resource);
            Assert.False(string.IsNullOrEmpty(manifest.Text("apiVersion")), resource);
            Assert.False(string.IsNullOrEmpty(manifest.Text("metadata", "name")), resource);
            kinds.Add(manifest.Text("kind")!);
        }
        Assert.Equal(["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceMonitor"], kinds.Order(StringComparer.Ordinal));
        var beside = Directory.EnumerateFiles(Base, "*.yaml").Select(f => Path.GetFileName(f)).Where(f => f != "kustomization.yaml");
        Assert.Equal(beside.Order(StringComparer.Ordinal), resources.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Overlays_for_CPU_and_GPU_build_on_the_base_from_beside_it_not_from_inside()
    {
        var overlays = Path.Combine(Kubernetes, "overlays");
        Assert.Equal(["cpu", "gpu"], Directory.EnumerateDirectories(overlays).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal));
        foreach (var overlay in new[] { "cpu", "gpu" })
        {
            var kustomization = Load(Path.Combine(overlays, overlay, "kustomization.yaml")).Single();
            var resource = Assert.IsType<string>(Assert.Single(kustomization.Items("resources")));
            Assert.Equal(Base, Path.GetFullPath(Path.Combine(overlays, overlay, resource)));
        }
        // A kustomization may not sit inside a folder that another one it uses is the root of (kustomize's "cycle
        // detected"): the base holds no other kustomization below it.
        Assert.Single(Directory.EnumerateFiles(Base, "kustomization.yaml", SearchOption.AllDirectories));
    }

    [Fact]
    public void Helm_values_stay_out_of_the_kustomizations_and_every_other_file_is_a_Kubernetes_object()
    {
        // kubectl apply -f on a folder takes every YAML file in it as a manifest: only Kubernetes objects and
        // kustomizations may live under the kustomize folders.
        Assert.True(File.Exists(AdapterValues));
        Assert.Null(Load(AdapterValues).Single().Text("kind"));
        foreach (var folder in new[] { Base, Path.Combine(Kubernetes, "overlays") })
        {
            Assert.False(AdapterValues.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal));
            foreach (var file in Directory.EnumerateFiles(folder, "*.yaml", SearchOption.AllDirectories))
            {
                foreach (var document in Load(file))
                {
                    Assert.False(string.IsNullOrEmpty(document.Text("apiVersion")), $"{file} has a document without apiVersion");
                    Assert.False(string.IsNullOrEmpty(document.Text("kind")), $"{file} has a document without kind");
                }
            }
        }
    }

    [Fact]
    public void Deployment_probes_health_routes_and_bounds_resources()
    {
        var container = Single("deployment.yaml").Items("spec", "template", "spec", "containers").Named("scanservice");

        Assert.Equal("/v2/health/live", container.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("/v2/health/ready", container.Text("readinessProbe", "httpGet", "path"));
        Assert.NotNull(container.At("startupProbe", "httpGet", "path"));
        foreach (var bound in new[] { "requests", "limits" })
            foreach (var resource in new[] { "cpu", "memory" })
                Assert.NotNull(container.Text("resources", bound, resource));
        Assert.Equal("8080", container.Items("ports").Named("http").Text("containerPort"));
        Assert.Equal("8081", container.Items("ports").Named("grpc").Text("containerPort"));
        Assert.Equal("true", Single("deployment.yaml").Text("spec", "template", "spec", "securityContext", "runAsNonRoot"));
    }

    [Fact]
    public void GPU_overlay_patches_the_deployment_to_ask_for_one_GPU_and_the_CUDA_provider()
    {
        var folder = Path.Combine(Kubernetes, "overlays", "gpu");
        var gpu = Load(Path.Combine(folder, "kustomization.yaml")).Single();
        var patchFile = gpu.Items("patches").Single().Text("path")!;
        var patch = Load(Path.Combine(folder, patchFile)).Single();
        Assert.Equal("Deployment", patch.Text("kind"));
        Assert.Equal(Single("deployment.yaml").Text("metadata", "name"), patch.Text("metadata", "name"));

        var container = patch.Items("spec", "template", "spec", "containers").Named("scanservice");
        Assert.Equal("1", container.Text("resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("Cuda", container.Items("env").Named("Model__ExecutionProvider").Text("value"));
    }

    [Fact]
    public void Service_exposes_http_on_8080_and_grpc_on_8081_for_the_deployments_pods()
    {
        var service = Single("service.yaml");
        Assert.Equal("8080", service.Items("spec", "ports").Named("http").Text("port"));
        Assert.Equal("8081", service.Items("spec", "ports").Named("grpc").Text("port"));
        AssertSelects(service.At("spec", "selector"), PodLabels());
    }

    [Fact]
    public async Task Autoscaler_scales_the_deployment_on_a_pods_metric_the_adapter_serves_from_a_metric_the_service_exports()
    {
        var hpa = Single("hpa.yaml");
        Assert.Equal("autoscaling/v2", hpa.Text("apiVersion"));
        Assert.Equal(Single("deployment.yaml").Text("metadata", "name"), hpa.Text("spec", "scaleTargetRef", "name"));
        var metric = hpa.Items("spec", "metrics").Single(m => m.Text("type") == "Pods");
        var name = metric.Text("pods", "metric", "name");

        var rules = Load(AdapterValues).Single().Items("rules", "custom");
        var rule = rules.Single(r => r.Text("name", "as") == name);
        var series = PromQl.MetricNames(rule.Text("seriesQuery")!).Single();
        Assert.Contains("<<.LabelMatchers>>", rule.Text("metricsQuery"));

        using var factory = new ScanApiFactory();
        using var client = factory.CreateClient();
        var exported = (await PrometheusExposition.ScrapeAsync(client)).Samples.Select(s => s.Name);
        Assert.Contains(series, exported);
    }

    [Fact]
    public void ServiceMonitor_scrapes_metrics_on_the_http_port_of_the_service()
    {
        var monitor = Single("servicemonitor.yaml");
        var endpoint = monitor.Items("spec", "endpoints").Single();
        Assert.Equal("http", endpoint.Text("port"));
        Assert.Equal("/metrics", endpoint.Text("path"));
        AssertSelects(monitor.At("spec", "selector", "matchLabels"), (Dictionary<object, object?>)Single("service.yaml").At("metadata", "labels")!);
    }

    [Fact]
    public void Disruption_budget_covers_the_deployments_pods()
    {
        var budget = Single("pdb.yaml");
        Assert.Equal("policy/v1", budget.Text("apiVersion"));
        AssertSelects(budget.At("spec", "selector", "matchLabels"), PodLabels());
    }

    [Fact]
    public void Compose_runs_the_service_with_Prometheus_scraping_it_and_Grafana_provisioned()
    {
        var compose = Load(Path.Combine(Compose, "compose.yaml")).Single();
        var service = compose.At("services", "scanservice");
        Assert.True(File.Exists(Path.Combine(Compose, service.Text("build", "context")!, service.Text("build", "dockerfile")!)));

        var prometheusConfig = compose.Items("services", "prometheus", "volumes").Cast<string>().Single(v => v.Contains("prometheus.yml", StringComparison.Ordinal));
        var scrape = Load(Path.Combine(Compose, prometheusConfig.Split(':')[0])).Single().Items("scrape_configs").Single();
        Assert.Equal("/metrics", scrape.Text("metrics_path"));
        Assert.Equal("scanservice:8080", scrape.Items("static_configs").Single().Items("targets").Single());

        var mounts = compose.Items("services", "grafana", "volumes").Cast<string>().ToDictionary(v => v.Split(':')[1], v => v.Split(':')[0]);
        var provisioning = Path.Combine(Compose, mounts["/etc/grafana/provisioning"]);
        var datasource = Load(Path.Combine(provisioning, "datasources", "prometheus.yaml")).Single().Items("datasources").Single();
        Assert.Equal("http://prometheus:9090", datasource.Text("url"));
        var provider = Load(Path.Combine(provisioning, "dashboards", "scanservice.yaml")).Single().Items("providers").Single();
        var dashboards = Path.GetFullPath(Path.Combine(Compose, mounts[provider.Text("options", "path")!]));
        Assert.Equal(Path.GetDirectoryName(DashboardTests.DashboardPath), dashboards);
    }

    [Fact]
    public void Dockerfiles_build_a_non_root_image_with_a_healthcheck_on_both_ports()
    {
        foreach (var file in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, file));
            Assert.True(lines.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)) >= 2, $"{file} is not multi-stage");
            Assert.Contains("EXPOSE 8080 8081", lines);
            Assert.Contains(lines, l => l.StartsWith("USER ", StringComparison.Ordinal) && !l.Contains("root", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("/v2/health/ready", StringComparison.Ordinal));
        }
        Assert.Contains(File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "Dockerfile.cuda")),
            l => l.StartsWith("ARG CUDA_IMAGE=nvidia/cuda:13.", StringComparison.Ordinal) && l.Contains("cudnn", StringComparison.Ordinal));
    }

    private static object? Single(string file) => Load(Path.Combine(Base, file)).Single();

    private static Dictionary<object, object?> PodLabels() =>
        (Dictionary<object, object?>)Single("deployment.yaml").At("spec", "template", "metadata", "labels")!;

    private static void AssertSelects(object? selector, Dictionary<object, object?> labels)
    {
        var matchLabels = Assert.IsType<Dictionary<object, object?>>(selector);
        Assert.NotEmpty(matchLabels);
        foreach (var (key, value) in matchLabels) Assert.Equal(value, labels.GetValueOrDefault(key));
    }
}
