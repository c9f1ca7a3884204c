using System.Security.Cryptography;
using System.Text.Json;

namespace ScanService.Core.Bundle;

/// <summary>A model bundle folder whose manifest has been read and checked: every file present, every checksum right, graphs chaining by name and shape.</summary>
public sealed class ModelBundle
{
    public string Directory { get; }
    public ModelManifest Manifest { get; }

    private ModelBundle(string directory, ModelManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    public string PathOf(GraphSpec graph) => Path.Combine(Directory, graph.File);

    /// <summary>
    /// The same bundle served with <paramref name="updated"/> as its manifest (thresholds calibrated where it is served),
    /// validated first; nothing on disk changes.
    /// </summary>
    public ModelBundle WithManifest(ModelManifest updated)
    {
        Validate(updated);
        if (!updated.Files.SequenceEqual(Manifest.Files))
            throw new BundleValidationException(BundleProblem.InvalidManifest, "a manifest served in place of the bundle's own must name the same files with the same checksums");
        return new ModelBundle(Directory, updated);
    }

    /// <summary>
    /// Replaces this bundle's manifest.json with <paramref name="updated"/> (figures recorded, thresholds calibrated),
    /// validated first and written through a temporary file, so a failure leaves the old manifest in place.
    /// </summary>
    public void RewriteManifest(ModelManifest updated)
    {
        Validate(updated);
        var path = Path.Combine(Directory, ModelManifest.FileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, updated.ToJson());
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads and validates the bundle in <paramref name="directory"/>; throws <see cref="BundleValidationException"/> naming the first problem.</summary>
    public static ModelBundle Load(string directory, bool verifyChecksums = true)
    {
        var full = Path.GetFullPath(directory);
        var manifestPath = Path.Combine(full, ModelManifest.FileName);
        if (!File.Exists(manifestPath))
            throw new BundleValidationException(BundleProblem.ManifestMissing, $"no {ModelManifest.FileName} in the model bundle folder '{directory}'");

        var manifest = ReadManifest(manifestPath);
        Validate(manifest);
        foreach (var (file, expected) in manifest.Files)
        {
            var path = Path.Combine(full, file);
            if (Path.GetDirectoryName(Path.GetFullPath(path)) != full)
                throw new BundleValidationException(BundleProblem.InvalidManifest, $"file '{file}' lies outside the bundle folder");
            if (!File.Exists(path))
                throw new BundleValidationException(BundleProblem.FileMissing, $"file '{file}' named in the manifest is missing from the bundle");
            if (verifyChecksums)
            {
                var actual = Sha256Of(path);
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                    throw new BundleValidationException(BundleProblem.ChecksumMismatch, $"file '{file}' has SHA-256 {actual}, the manifest says {expected}");
            }
        }
        return new ModelBundle(full, manifest);
    }

    public static ModelManifest ReadManifest(string manifestPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(manifestPath));
            // The schema version is read first on its own so that a newer bundle gets that message, not a parse error.
            if (!document.RootElement.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number)
                throw new BundleValidationException(BundleProblem.InvalidManifest, "the manifest has no schemaVersion");
            if (version.GetInt32() != ModelManifest.CurrentSchemaVersion)
                throw new BundleValidationException(BundleProblem.UnsupportedSchemaVersion,
                    $"manifest schema version {version.GetInt32()} is not understood; this build reads version {ModelManifest.CurrentSchemaVersion}");
            return document.Deserialize<ModelManifest>(ModelManifest.JsonOptions)
                ?? throw new BundleValidationException(BundleProblem.ManifestUnreadable, "the manifest is empty");
        }
        catch (JsonException e)
        {
            throw new BundleValidationException(BundleProblem.ManifestUnreadable, $"the manifest is not valid: {e.Message}", e);
        }
    }

    /// <summary>Checks that the manifest is complete and that its graphs chain by shape.</summary>
    public static void Validate(ModelManifest m)
    {
        static BundleValidationException Chain(string message) => new(BundleProblem.GraphsDoNotChain, message);
        static BundleValidationException Invalid(string message) => new(BundleProblem.InvalidManifest, message);

        if (m.Stages.Count == 0) throw Invalid("the manifest lists no stages");
        if (m.Exits.Count != m.Stages.Count) throw Invalid($"the manifest lists {m.Stages.Count} stages but {m.Exits.Count} exits; each stage has one exit");
        if (m.Labels.Count < 2) throw Invalid("the manifest lists fewer than 2 class labels");
        var input = m.Input;
        if (input.Mean.Count != input.Channels || input.Std.Count != input.Channels || input.Std.Any(s => s <= 0))
            throw Invalid("input mean and std need one positive value per channel");
        if ((input.ColorMode == ColorMode.Grayscale) != (input.Channels == 1))
            throw Invalid($"colour mode {input.ColorMode} does not fit {input.Channels} channels");

        long[] inputShape = [-1, input.Channels, input.Height, input.Width];
        long[] logitsShape = [-1, m.Labels.Count];
        var previous = new TensorSpec("input", inputShape);
        for (var k = 0; k < m.Stages.Count; k++)
        {
            var stage = m.Stages[k].Graph;
            if (m.Stages[k].Index != k + 1) throw Invalid($"stage {k + 1} is listed with index {m.Stages[k].Index}");
            if (!stage.Input.SameShapeAs(previous))
                throw Chain($"stage {k + 1} ({stage.File}) takes {stage.Input} but receives {previous}");
            var exit = m.Exits[k];
            if (exit.Index != k + 1) throw Invalid($"exit {k + 1} is listed with index {exit.Index}");
            var headInput = stage.Output;
            if (exit.Attention is { } attention)
            {
                if (!attention.Input.SameShapeAs(stage.Output))
                    throw Chain($"attention {k + 1} ({attention.File}) takes {attention.Input} but stage {k + 1} gives {stage.Output}");
                if (!attention.Output.SameShapeAs(attention.Input))
                    throw Chain($"attention {k + 1} ({attention.File}) gives {attention.Output}, not the shape of its input {attention.Input}");
                headInput = attention.Output;
            }
            if (!exit.Classifier.Input.SameShapeAs(headInput))
                throw Chain($"exit {k + 1} ({exit.Classifier.File}) takes {exit.Classifier.Input} but receives {headInput}");
            if (!exit.Classifier.Output.Shape.SequenceEqual(logitsShape))
                throw Chain($"exit {k + 1} ({exit.Classifier.File}) gives {exit.Classifier.Output}, expected logits [{string.Join(',', logitsShape)}]");
            previous = stage.Output;
        }
        if (!m.Monolithic.Input.Shape.SequenceEqual(inputShape) || !m.Monolithic.Output.Shape.SequenceEqual(logitsShape))
            throw Chain($"the monolithic graph ({m.Monolithic.File}) maps {m.Monolithic.Input} to {m.Monolithic.Output}, expected input [{string.Join(',', inputShape)}] to logits");
        if (m.Monolithic.MultiplyAdds <= 0) throw Invalid("the monolithic graph's multiply-adds must be positive");

        foreach (var point in m.AllOperatingPoints)
        {
            if (point.Thresholds.Count != m.Exits.Count)
                throw Invalid($"operating point '{point.Name}' has {point.Thresholds.Count} thresholds for {m.Exits.Count} exits");
            // A threshold above 1 is allowed and means "never leave at this exit" (no softmax maximum exceeds 1).
            if (point.Thresholds.Any(t => float.IsNaN(t) || t < 0))
                throw Invalid($"operating point '{point.Name}' has a negative or NaN threshold");
        }
        var duplicate = m.AllOperatingPoints.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw Invalid($"operating point '{duplicate.Key}' is defined more than once");
        if (m.DefaultOperatingPoint is { } name && m.OperatingPoints.All(p => !string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
            throw Invalid($"the default operating point '{name}' is not defined");

        var named = AllGraphs(m).Select(g => g.File).Append(m.ValidationRecords).OfType<string>().Distinct().ToList();
        var unlisted = named.Where(f => !m.Files.ContainsKey(f)).ToList();
        if (unlisted.Count > 0) throw Invalid($"no checksum for {string.Join(", ", unlisted)}");
    }

    public static IEnumerable<GraphSpec> AllGraphs(ModelManifest m)
    {
        foreach (var stage in m.Stages) yield return stage.Graph;
        foreach (var exit in m.Exits)
        {
            if (exit.Attention is { } attention) yield return attention;
            yield return exit.Classifier;
        }
        yield return m.Monolithic;
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
