using ScanService.Core.Bundle;
using static ScanService.Api.Tests.Metrics.YamlDocuments;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// deploy/kserve: a ServingRuntime that runs the service on the Open Inference Protocol ports it binds, with the bundle
/// where KServe's storage initializer puts a storageUri, and an InferenceService that uses it.
/// </summary>
public sealed class KServeManifestTests
{
    private static readonly string KServe = Path.Combine(RepositoryPaths.Root, "deploy", "kserve");

    // KServe's storage initializer downloads the storageUri here, in the serving container.
    private const string KServeModelMount = "/mnt/models";

    private static object? Runtime => Load(Path.Combine(KServe, "servingruntime.yaml")).Single();
    private static object? InferenceService => Load(Path.Combine(KServe, "inferenceservice.yaml")).Single();
    private static object? Container => Runtime.Items("spec", "containers").Named("kserve-container");

    [Fact]
    public void Every_file_is_a_named_KServe_object()
    {
        foreach (var file in Directory.EnumerateFiles(KServe, "*.yaml"))
        {
            foreach (var document in Load(file))
            {
                Assert.StartsWith("serving.kserve.io/", document.Text("apiVersion"));
                Assert.False(string.IsNullOrEmpty(document.Text("metadata", "name")), file);
            }
        }
        Assert.Equal("serving.kserve.io/v1alpha1", Runtime.Text("apiVersion"));
        Assert.Equal("ServingRuntime", Runtime.Text("kind"));
        Assert.Equal("serving.kserve.io/v1beta1", InferenceService.Text("apiVersion"));
        Assert.Equal("InferenceService", InferenceService.Text("kind"));
    }

    [Fact]
    public void Runtime_serves_scan_bundles_of_the_manifest_schema_the_service_reads_over_v2_REST_and_gRPC()
    {
        var format = Runtime.Items("spec", "supportedModelFormats").Named("scan-bundle");
        Assert.NotNull(format);
        Assert.Equal($"{ModelManifest.CurrentSchemaVersion}", format.Text("version"));
        Assert.Equal(["grpc-v2", "v2"], Runtime.Items("spec", "protocolVersions").Cast<string>().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Runtime_container_exposes_the_ports_Kestrel_binds_and_probes_the_v2_health_routes()
    {
        // appsettings.json: REST (HTTP/1.1) on one endpoint, gRPC (HTTP/2) on the other.
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "ScanService.Api", "appsettings.json")));
        var endpoints = settings.RootElement.GetProperty("Kestrel").GetProperty("Endpoints");
        var rest = Port(endpoints.GetProperty("Http"), "Http1");
        var grpc = Port(endpoints.GetProperty("Grpc"), "Http2");

        var ports = Container.Items("ports");
        Assert.Equal(2, ports.Count);
        // KServe's raw deployment puts the first port behind the predictor Service's port 80: REST first.
        Assert.Equal($"{rest}", ports[0].Text("containerPort"));
        Assert.Equal("http", ports[0].Text("name"));
        Assert.Equal($"{grpc}", ports[1].Text("containerPort"));
        Assert.Equal("grpc", ports[1].Text("name"));

        foreach (var (probe, path) in new[] { ("startupProbe", "/v2/health/live"), ("livenessProbe", "/v2/health/live"), ("readinessProbe", "/v2/health/ready") })
        {
            Assert.Equal(path, Container.Text(probe, "httpGet", "path"));
            Assert.Equal($"{rest}", Container.Text(probe, "httpGet", "port"));
        }
        Assert.Equal($"{rest}", Runtime.Text("spec", "annotations", "prometheus.kserve.io/port"));
        Assert.Equal("/metrics", Runtime.Text("spec", "annotations", "prometheus.kserve.io/path"));
    }

    [Fact]
    public void Runtime_container_reads_the_bundle_where_KServe_puts_the_storageUri_with_threads_equal_to_its_CPU_limit()
    {
        Assert.Equal("Model__BundlePath", $"{ModelOptions.Section}__{nameof(ModelOptions.BundlePath)}");
        Assert.Equal(KServeModelMount, KustomizeBuildTests.Env(Container, "Model__BundlePath"));
        KustomizeBuildTests.AssertThreadsMatchCpuLimit(Container);
        Assert.Equal("true", Container.Text("securityContext", "runAsNonRoot"));
    }

    [Fact]
    public void InferenceService_runs_a_bundle_from_a_storage_URI_on_the_runtime_under_the_models_own_name()
    {
        var model = InferenceService.At("spec", "predictor", "model");
        Assert.Equal(Runtime.Text("metadata", "name"), model.Text("runtime"));
        Assert.Equal("scan-bundle", model.Text("modelFormat", "name"));
        Assert.Equal($"{ModelManifest.CurrentSchemaVersion}", model.Text("modelFormat", "version"));
        Assert.Equal("v2", model.Text("protocolVersion"));
        Assert.True(Uri.TryCreate(model.Text("storageUri"), UriKind.Absolute, out var storage), "storageUri is not a URI");
        Assert.Contains(storage.Scheme, new[] { "s3", "gs", "pvc", "https", "hdfs" });
        // The Open Inference Protocol routes use the bundle's model name; the InferenceService carries the same.
        var manifest = ModelBundle.ReadManifest(Path.Combine(RepositoryPaths.DefaultBundle, ModelManifest.FileName));
        Assert.Equal(manifest.Model.Name, InferenceService.Text("metadata", "name"));
        // Two container ports are more than Knative allows: raw deployment.
        Assert.Equal("RawDeployment", InferenceService.Text("metadata", "annotations", "serving.kserve.io/deploymentMode"));
    }

    [Fact]
    public void The_commented_alternative_serves_the_bundle_baked_into_the_image()
    {
        // The commented InferenceService at the end of the file, uncommented.
        var lines = File.ReadAllLines(Path.Combine(KServe, "inferenceservice.yaml"));
        var start = Array.FindIndex(lines, l => l == "# apiVersion: serving.kserve.io/v1beta1");
        Assert.True(start > 0, "no commented alternative");
        var alternative = Parse(string.Join('\n', lines[start..].Select(l => l.Length > 2 ? l[2..] : ""))).Single();
        var model = alternative.At("spec", "predictor", "model");
        Assert.Null(model.Text("storageUri"));
        Assert.Equal(Runtime.Text("metadata", "name"), model.Text("runtime"));
        Assert.Equal(InferenceService.Text("metadata", "name"), alternative.Text("metadata", "name"));

        // Where the images put the default bundle: the publish folder (WORKDIR /app) and the project's link for it.
        var path = KustomizeBuildTests.Env(model, "Model__BundlePath")!;
        foreach (var dockerfile in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, dockerfile));
            Assert.Contains("WORKDIR /app", text);
            Assert.Contains("--output /app", text);
        }
        var project = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "ScanService.Api", "ScanService.Api.csproj"));
        Assert.Contains(@"LinkBase=""models\fashion-mnist""", project);
        Assert.Equal("/app/models/fashion-mnist", path);
    }

    private static int Port(JsonElement endpoint, string protocols)
    {
        Assert.Equal(protocols, endpoint.GetProperty("Protocols").GetString());
        return new Uri(endpoint.GetProperty("Url").GetString()!).Port;
    }
}
