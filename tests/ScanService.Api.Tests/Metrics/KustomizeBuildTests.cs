using System.Globalization;
using static ScanService.Api.Tests.Metrics.YamlDocuments;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// Every kustomization under deploy/ builds with <c>kubectl kustomize</c> (what <c>kubectl apply -k</c> runs first), and the
/// CPU and GPU overlays build the whole service with the settings each kind of node needs.
/// </summary>
public sealed class KustomizeBuildTests
{
    private static readonly string Overlays = Path.Combine(DeployManifestTests.Kubernetes, "overlays");

    public static TheoryData<string> Kustomizations() => new(KustomizationFolders());

    /// <summary>Every folder under deploy/ with a kustomization.yaml, relative to the repository.</summary>
    private static List<string> KustomizationFolders() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "deploy"), "kustomization.yaml", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(RepositoryPaths.Root, Path.GetDirectoryName(file)!))
            .Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void The_kustomizations_are_the_base_and_the_CPU_and_GPU_overlays()
    {
        Assert.Equal(
            [Path.Combine("deploy", "kubernetes", "base"), Path.Combine("deploy", "kubernetes", "overlays", "cpu"), Path.Combine("deploy", "kubernetes", "overlays", "gpu")],
            KustomizationFolders());
    }

    [RequiresKubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void Builds_with_kubectl_kustomize_into_named_Kubernetes_objects(string folder)
    {
        var built = Build(folder);
        Assert.NotEmpty(built);
        foreach (var document in built)
        {
            Assert.False(string.IsNullOrEmpty(document.Text("apiVersion")), $"{folder}: a document without apiVersion");
            Assert.False(string.IsNullOrEmpty(document.Text("kind")), $"{folder}: a document without kind");
            Assert.False(string.IsNullOrEmpty(document.Text("metadata", "name")), $"{folder}: a {document.Text("kind")} without a name");
            Assert.Equal("scanservice", document.Text("metadata", "labels", "app.kubernetes.io/part-of"));
        }
    }

    [RequiresKubectlTheory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void Each_overlay_builds_the_whole_service(string overlay)
    {
        var built = Build(Path.Combine(Overlays, overlay));
        Assert.Equal(
            ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceMonitor"],
            built.Select(d => d.Text("kind")!).Order(StringComparer.Ordinal));
        var container = Container(built);
        Assert.Equal("/v2/health/ready", container.Text("readinessProbe", "httpGet", "path"));
        Assert.Equal("8080", container.Items("ports").Named("http").Text("containerPort"));
        Assert.Equal("8081", container.Items("ports").Named("grpc").Text("containerPort"));
    }

    [RequiresKubectlFact]
    public void CPU_overlay_runs_the_CPU_image_and_provider_with_as_many_threads_as_its_CPU_limit()
    {
        var container = Container(Build(Path.Combine(Overlays, "cpu")));
        Assert.Equal("scanservice:latest", container.Text("image"));
        Assert.Equal("Cpu", Env(container, "Model__ExecutionProvider"));
        Assert.Null(container.At("resources", "limits", "nvidia.com/gpu"));
        AssertThreadsMatchCpuLimit(container);
    }

    [RequiresKubectlFact]
    public void GPU_overlay_asks_for_one_GPU_the_CUDA_provider_and_image_with_as_many_threads_as_its_CPU_limit()
    {
        var built = Build(Path.Combine(Overlays, "gpu"));
        var container = Container(built);
        Assert.Equal("scanservice:cuda", container.Text("image"));
        Assert.Equal("1", container.Text("resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("Cuda", Env(container, "Model__ExecutionProvider"));
        AssertThreadsMatchCpuLimit(container);
        // The patch replaces what it names and keeps the rest of the base's container.
        Assert.Equal("0.01", Env(container, "Metrics__AgreementSampleRate"));
        Assert.Equal("/v2/health/live", container.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("true", built.Single(d => d.Text("kind") == "Deployment").Text("spec", "template", "spec", "securityContext", "runAsNonRoot"));
    }

    [Fact]
    public void The_thread_setting_the_manifests_set_is_the_one_the_service_reads()
    {
        // Model__IntraOpThreads is the environment's spelling of Model:IntraOpThreads.
        Assert.Equal("Model", ModelOptions.Section);
        Assert.NotNull(typeof(ModelOptions).GetProperty(nameof(ModelOptions.IntraOpThreads)));
        Assert.Equal(ThreadsVariable, $"{ModelOptions.Section}__{nameof(ModelOptions.IntraOpThreads)}");
    }

    private const string ThreadsVariable = "Model__IntraOpThreads";

    /// <summary>ONNX Runtime sizes its pool from the node's cores, not the container's limit: the two must agree.</summary>
    internal static void AssertThreadsMatchCpuLimit(object? container)
    {
        var limit = CpuCores(container.Text("resources", "limits", "cpu")!);
        var threads = int.Parse(Env(container, ThreadsVariable)!, CultureInfo.InvariantCulture);
        Assert.Equal(limit, threads);
    }

    /// <summary>A whole number of cores from a Kubernetes CPU quantity ("4" or "4000m").</summary>
    internal static int CpuCores(string quantity)
    {
        var cores = quantity.EndsWith('m')
            ? decimal.Parse(quantity[..^1], CultureInfo.InvariantCulture) / 1000
            : decimal.Parse(quantity, CultureInfo.InvariantCulture);
        Assert.True(cores == decimal.Truncate(cores) && cores >= 1, $"a CPU limit of {quantity} is not a whole number of cores to give threads");
        return (int)cores;
    }

    internal static string? Env(object? container, string name) => container.Items("env").Named(name).Text("value");

    private static object? Container(IReadOnlyList<object?> built) =>
        built.Single(d => d.Text("kind") == "Deployment").Items("spec", "template", "spec", "containers").Named("scanservice");

    /// <summary>What <c>kubectl kustomize</c> makes of <paramref name="folder"/>, one tree per object; fails with kubectl's message.</summary>
    internal static IReadOnlyList<object?> Build(string folder)
    {
        var (exitCode, output, errors) = CommandLineTool.Run("kubectl", ["kustomize", folder]);
        Assert.True(exitCode == 0, $"kubectl kustomize {folder} exited with {exitCode}:\n{errors}");
        Assert.DoesNotContain("cycle", errors, StringComparison.OrdinalIgnoreCase);
        return Parse(output);
    }
}
