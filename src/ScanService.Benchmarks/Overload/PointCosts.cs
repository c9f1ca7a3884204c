using System.Text.Json;

namespace ScanService.Benchmarks.Overload;

/// <summary>
/// Each operating point's mean multiply-adds relative to the monolithic graph, by name, read from the bundle's
/// manifest.json: the named points (<c>operatingPoints[]</c>) and, where the bundle has one, the Pareto front the
/// service may degrade along (<c>paretoFront[]</c>). Read straight from the JSON rather than through the bundle
/// reader, so that the benchmark needs nothing of the manifest beyond <c>name</c> and <c>relativeCost</c>.
/// </summary>
public sealed record PointCosts(string Model, string Version, string? DefaultOperatingPoint, IReadOnlyDictionary<string, double> Costs, IReadOnlyList<string> NamedPoints)
{
    public static PointCosts Load(string bundlePath)
    {
        var path = Path.Combine(bundlePath, "manifest.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: --bundle must be a model bundle folder");
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = json.RootElement;
        // Names as the service matches them: without regard to case.
        var costs = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        var named = new List<string>();
        foreach (var array in new[] { "operatingPoints", "paretoFront" })
        {
            if (!root.TryGetProperty(array, out var items) || items.ValueKind != JsonValueKind.Array) continue;
            foreach (var item in items.EnumerateArray())
            {
                if (!item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String) continue;
                if (!item.TryGetProperty("relativeCost", out var cost) || cost.ValueKind != JsonValueKind.Number) continue;
                // A front point that shares a named point's name is that point: the named one wins.
                if (costs.TryAdd(name.GetString()!, cost.GetDouble()) && array == "operatingPoints") named.Add(name.GetString()!);
            }
        }
        var model = root.TryGetProperty("model", out var m) ? m : default;
        return new PointCosts(
            Text(model, "name") ?? Path.GetFileName(Path.GetFullPath(bundlePath)),
            Text(model, "version") ?? "?",
            Text(root, "defaultOperatingPoint"),
            costs,
            named);
    }

    /// <summary>The point's relative cost, or NaN for a name the manifest does not list.</summary>
    public double Of(string? point) => point is not null && Costs.TryGetValue(point, out var cost) ? cost : double.NaN;

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
