using System.Text.Json.Nodes;

namespace ScanService.Core.Tests.Bundle;

public sealed class ModelBundleValidationTests : IDisposable
{
    private readonly string _copy = CommittedBundle.Copy();

    public void Dispose() => CommittedBundle.Delete(_copy);

    private string ManifestPath => Path.Combine(_copy, ModelManifest.FileName);

    private void EditManifest(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        edit(json);
        File.WriteAllText(ManifestPath, json.ToJsonString());
    }

    [Fact]
    public void The_committed_bundle_loads_and_validates()
    {
        var bundle = ModelBundle.Load(_copy);
        Assert.Equal(4, bundle.Manifest.Exits.Count);
        // Every graph and the validation records, each with its checksum.
        Assert.Equal(ModelBundle.AllGraphs(bundle.Manifest).Count() + 1, bundle.Manifest.Files.Count);
        Assert.Contains(bundle.Manifest.ValidationRecords!, bundle.Manifest.Files.Keys);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        File.Delete(Path.Combine(_copy, "exit2.onnx"));
        var error = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.FileMissing, error.Problem);
        Assert.Contains("'exit2.onnx'", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void A_wrong_checksum_is_named()
    {
        var path = Path.Combine(_copy, "stage3.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.ChecksumMismatch, error.Problem);
        Assert.Contains("'stage3.onnx' has SHA-256", error.Message);
    }

    [Fact]
    public void An_unknown_schema_version_is_refused_before_anything_else()
    {
        EditManifest(m =>
        {
            m["schemaVersion"] = 99;
            m.Remove("stages");
        });
        var error = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.UnsupportedSchemaVersion, error.Problem);
        Assert.Contains("schema version 99", error.Message);
    }

    [Fact]
    public void Graphs_whose_shapes_do_not_chain_are_refused_naming_the_graph()
    {
        EditManifest(m => m["stages"]![1]!["graph"]!["input"]!["shape"] = new JsonArray(-1, 17, 28, 28));
        var error = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.GraphsDoNotChain, error.Problem);
        Assert.Contains("stage 2 (stage2.onnx) takes", error.Message);
    }

    [Fact]
    public void A_manifest_that_disagrees_with_the_graph_it_names_is_refused_when_sessions_open()
    {
        // Both ends of the manifest agree with each other but not with the ONNX file: only ORT can tell.
        EditManifest(m =>
        {
            m["stages"]![0]!["graph"]!["output"]!["name"] = "renamed";
        });
        var bundle = ModelBundle.Load(_copy);
        var error = Assert.Throws<BundleValidationException>(() =>
            EarlyExitEngine.Create(bundle, new ExecutionProviderChoice(OnnxSessions.CpuProvider, "test")));
        Assert.Equal(BundleProblem.GraphsDoNotChain, error.Problem);
        Assert.Contains("'stage1.onnx'", error.Message);
    }

    [Fact]
    public void A_missing_manifest_and_unreadable_json_have_their_own_messages()
    {
        File.WriteAllText(ManifestPath, "{ not json");
        var unreadable = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.ManifestUnreadable, unreadable.Problem);

        File.Delete(ManifestPath);
        var missing = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.ManifestMissing, missing.Problem);
        Assert.NotEqual(unreadable.Message, missing.Message);
    }

    [Fact]
    public void An_operating_point_with_the_wrong_number_of_thresholds_is_refused()
    {
        EditManifest(m => m["operatingPoints"] = new JsonArray(new JsonObject { ["name"] = "odd", ["thresholds"] = new JsonArray(0.5, 0.5) }));
        var error = Assert.Throws<BundleValidationException>(() => ModelBundle.Load(_copy));
        Assert.Equal(BundleProblem.InvalidManifest, error.Problem);
        Assert.Contains("'odd' has 2 thresholds for 4 exits", error.Message);
    }

    [Fact]
    public void Operating_points_survive_a_write_and_a_read()
    {
        var manifest = ModelBundle.Load(_copy).Manifest;
        var points = new[]
        {
            new OperatingPoint { Name = "fast", Thresholds = [0.6f, 0.7f, 0.8f, 0f], ValidationAccuracy = 0.91, RelativeCost = 0.42, TestAccuracy = 0.905, TestExitShares = [0.7, 0.2, 0.05, 0.05] },
            new OperatingPoint { Name = "never-early", Thresholds = [2f, 2f, 2f, 0f], ValidationAccuracy = 0.93, RelativeCost = 1.2 },
        };
        File.WriteAllText(ManifestPath, (manifest with { OperatingPoints = points, DefaultOperatingPoint = "fast" }).ToJson());

        var read = ModelBundle.Load(_copy).Manifest;
        Assert.Equal("fast", read.DefaultOperatingPoint);
        Assert.Equal(points.Length, read.OperatingPoints.Count);
        for (var i = 0; i < points.Length; i++)
        {
            Assert.Equal(points[i].Name, read.OperatingPoints[i].Name);
            Assert.Equal(points[i].Thresholds, read.OperatingPoints[i].Thresholds);
            Assert.Equal(points[i].ValidationAccuracy, read.OperatingPoints[i].ValidationAccuracy);
            Assert.Equal(points[i].RelativeCost, read.OperatingPoints[i].RelativeCost);
            Assert.Equal(points[i].TestExitShares, read.OperatingPoints[i].TestExitShares);
        }
    }
}
