using System.Text.Json.Nodes;
using Json.Schema;
using ScanService.Core.Bundle;
using ScanService.Training.Model;
using ScanService.Training.Tests.Learning;

namespace ScanService.Training.Tests.Export;

/// <summary>What the exporter writes is what the public bundle contract (docs/bundle/manifest.schema.json) describes.</summary>
public class ExportedManifestSchemaTests
{
    private static string SchemaPath()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ScanService.sln"))) folder = folder.Parent;
        return Path.Combine(folder?.FullName ?? throw new DirectoryNotFoundException("the repository root (ScanService.sln) is not above the tests"), "docs", "bundle", "manifest.schema.json");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_exported_manifest_validates_against_the_published_schema(bool attention)
    {
        using var scratch = new ScratchFolder();
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(16) with { AttentionModules = attention });
        network.Initialize(5);
        network.eval();

        var result = ExportParityTests.ExportTo(network, scratch.PathOf("bundle"));

        var schema = JsonSchema.FromText(File.ReadAllText(SchemaPath()));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(result.Directory, ModelManifest.FileName)));
        var verdict = schema.Evaluate(manifest, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(verdict.IsValid, string.Join("\n", verdict.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
        // The ablation's shallow exits have no attention graph: the contract allows that, and the service loads it.
        Assert.Equal(attention, ModelBundle.Load(result.Directory).Manifest.Exits[0].Attention is not null);
    }
}
