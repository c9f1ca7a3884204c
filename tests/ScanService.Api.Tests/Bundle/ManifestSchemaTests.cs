using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Json.Schema;
using ScanService.Core.Bundle;

namespace ScanService.Api.Tests.Bundle;

/// <summary>
/// docs/bundle/manifest.schema.json, the public form of the bundle contract: every manifest the repository holds and every
/// manifest the code writes validates, broken ones do not, and the schema names exactly the fields the reader has.
/// </summary>
public sealed class ManifestSchemaTests
{
    public static readonly string SchemaPath = Path.Combine(RepositoryPaths.Root, "docs", "bundle", "manifest.schema.json");

    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(SchemaPath)));

    /// <summary>The schema's verdict on <paramref name="manifest"/>: null when valid, else each failing location and message.</summary>
    internal static string? Problems(JsonNode? manifest)
    {
        var results = Schema.Value.Evaluate(manifest, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return null;
        return string.Join("\n", results.Details.Where(d => d.HasErrors)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")));
    }

    private static JsonNode Committed() => JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.DefaultBundle, ModelManifest.FileName)))!;

    [Fact]
    public void The_schema_is_a_draft_2020_12_schema()
    {
        var schema = JsonNode.Parse(File.ReadAllText(SchemaPath))!;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema["$schema"]!.GetValue<string>());
        var results = MetaSchemas.Draft202012.Evaluate(schema, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, string.Join("\n", results.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Values)));
    }

    public static TheoryData<string> RepositoryManifests()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "models"), ModelManifest.FileName, SearchOption.AllDirectories)
                     .Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(RepositoryPaths.Root, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(RepositoryManifests))]
    public void Every_bundle_in_the_repository_validates_and_loads(string manifest)
    {
        var path = Path.Combine(RepositoryPaths.Root, manifest);
        Assert.Null(Problems(JsonNode.Parse(File.ReadAllText(path))));
        ModelBundle.Load(Path.GetDirectoryName(path)!);
    }

    [Fact]
    public void The_manifest_the_code_writes_validates()
    {
        // scan-train's export, tune and evaluate --record all write a ModelManifest with ToJson: the committed one read
        // back and written again, and one as a fresh export writes it (no operating points yet, a training record with
        // the architecture alone, no attention on the deepest exit).
        var read = ModelBundle.ReadManifest(Path.Combine(RepositoryPaths.DefaultBundle, ModelManifest.FileName));
        Assert.Null(Problems(JsonNode.Parse(read.ToJson())));

        var exported = read with
        {
            OperatingPoints = [],
            DefaultOperatingPoint = null,
            Training = new TrainingRecord { Architecture = read.Training?.Architecture },
        };
        ModelBundle.Validate(exported);
        var json = JsonNode.Parse(exported.ToJson())!;
        Assert.Null(json["operatingPoints"]!.AsArray().FirstOrDefault());
        var exits = json["exits"]!.AsArray();
        Assert.Null(exits[exits.Count - 1]!["attention"]);
        Assert.Null(Problems(json));
    }

    public static TheoryData<string, string> BrokenManifests() => new()
    {
        { "no opset", "$.opset=<remove>" },
        { "no model name", "$.model.name=<remove>" },
        { "no checksums", "$.files=<remove>" },
        { "a stage without its file", "$.stages[0].graph.file=<remove>" },
        { "an exit without its classifier", "$.exits[1].classifier=<remove>" },
        { "channels as a string", "$.input.channels=\"1\"" },
        { "labels as one string", "$.labels=\"T-shirt/top\"" },
        { "fractional multiply-adds", "$.stages[0].graph.multiplyAdds=1.5" },
        { "an unknown colour mode", "$.input.colorMode=\"grey\"" },
        { "rgb with one channel", "$.input.colorMode=\"rgb\"" },
        { "a fixed batch dimension", "$.stages[0].graph.input.shape=[1,1,28,28]" },
        { "a negative threshold", "$.operatingPoints[0].thresholds=[-0.5,0,0,0]" },
        { "a checksum that is not SHA-256", "$.files[\"stage1.onnx\"]=\"abc\"" },
        { "a file outside the folder", "$.stages[0].graph.file=\"../stage1.onnx\"" },
        { "a misspelt field", "$.exits[0].cumulativemultiplyadds=1" },
        { "another schema version", "$.schemaVersion=2" },
        { "a zero standard deviation", "$.input.std=[0]" },
    };

    [Theory]
    [MemberData(nameof(BrokenManifests))]
    public void A_broken_manifest_is_refused(string what, string edit)
    {
        var manifest = Committed();
        var parent = Apply(manifest, edit);
        var problems = Problems(manifest);
        Assert.True(problems is not null, $"the schema accepts a manifest with {what}");
        // Refused for the edit, not for something else: a problem lies at or below the edited field's parent.
        Assert.True(problems.Split('\n').Any(p => p.StartsWith(parent, StringComparison.Ordinal)), $"{what}: {problems}");
    }

    [Fact]
    public void The_schema_names_exactly_the_fields_the_reader_has_and_requires_what_it_requires()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        var root = document.RootElement;
        var defs = root.GetProperty("$defs");
        var properties = root.GetProperty("properties");
        var schemaOf = new Dictionary<Type, JsonElement>
        {
            [typeof(ModelManifest)] = root,
            [typeof(ModelIdentity)] = properties.GetProperty("model"),
            [typeof(InputSpec)] = properties.GetProperty("input"),
            [typeof(StageSpec)] = properties.GetProperty("stages").GetProperty("items"),
            [typeof(ExitSpec)] = properties.GetProperty("exits").GetProperty("items"),
            [typeof(GraphSpec)] = defs.GetProperty("graph"),
            [typeof(TensorSpec)] = defs.GetProperty("tensor"),
            [typeof(OperatingPoint)] = defs.GetProperty("operatingPoint"),
            [typeof(TrainingRecord)] = properties.GetProperty("training"),
        };
        foreach (var (type, schema) in schemaOf)
        {
            var named = schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            Assert.True(JsonNames(type).SequenceEqual(named), $"{type.Name}: the reader has {string.Join(", ", JsonNames(type))}; the schema names {string.Join(", ", named)}");
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean(), $"{type.Name} accepts fields the reader ignores");

            var required = schema.TryGetProperty("required", out var list) ? list.EnumerateArray().Select(r => r.GetString()!).Order(StringComparer.Ordinal).ToList() : [];
            Assert.True(RequiredJsonNames(type).SequenceEqual(required), $"{type.Name}: the reader requires {string.Join(", ", RequiredJsonNames(type))}; the schema {string.Join(", ", required)}");
        }
    }

    /// <summary>The JSON names the reader binds for <paramref name="type"/>'s properties.</summary>
    private static List<string> JsonNames(Type type) => JsonProperties(type).Select(p => Name(p)).Order(StringComparer.Ordinal).ToList();

    /// <summary>C# required members, and a positional record's constructor parameters: the reader cannot do without them.</summary>
    private static List<string> RequiredJsonNames(Type type)
    {
        var positional = type.GetConstructors().Where(c => c.GetParameters().Length > 0)
            .SelectMany(c => c.GetParameters()).Select(p => p.Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return JsonProperties(type).Where(p => p.IsDefined(typeof(RequiredMemberAttribute)) || positional.Contains(p.Name))
            .Select(p => Name(p)).Order(StringComparer.Ordinal).ToList();
    }

    private static IEnumerable<PropertyInfo> JsonProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => !p.IsDefined(typeof(JsonIgnoreAttribute)) && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");

    private static string Name(PropertyInfo property) => ModelManifest.JsonOptions.PropertyNamingPolicy!.ConvertName(property.Name);

    /// <summary>Applies "$.path=json" (or "=&lt;remove&gt;") to <paramref name="manifest"/>; the JSON pointer of the edited field's parent.</summary>
    private static string Apply(JsonNode manifest, string edit)
    {
        var (path, value) = (edit[..edit.IndexOf('=', StringComparison.Ordinal)], edit[(edit.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        var steps = System.Text.RegularExpressions.Regex.Matches(path, @"\.(\w+)|\[(\d+)\]|\[""([^""]+)""\]")
            .Select(m => m.Groups[1].Success ? (object)m.Groups[1].Value : m.Groups[2].Success ? int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : m.Groups[3].Value)
            .ToList();
        var parent = manifest;
        foreach (var step in steps[..^1]) parent = step is int i ? parent[i]! : parent[(string)step]!;
        var last = steps[^1];
        var node = value == "<remove>" ? null : JsonNode.Parse(value);
        if (value == "<remove>") Assert.True(parent.AsObject().Remove((string)last), $"{path} is not in the manifest");
        else if (last is int index) parent[index] = node;
        else parent[(string)last] = node;
        return string.Concat(steps[..^1].Select(step => $"/{step}"));
    }
}
