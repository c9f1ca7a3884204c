using System.Text.Json;
using ScanService.Core.Bundle;

namespace ScanService.Training.Tuning;

/// <summary>
/// The operating points <c>tune</c> chose, in the manifest's own form: <c>tune</c> writes them to the run's tuning
/// folder, <c>export</c> reads them back, and <see cref="ApplyTo"/> is the one way the trainer puts operating
/// points into a manifest.
/// </summary>
/// <param name="OperatingPoints">The named points.</param>
/// <param name="DefaultOperatingPoint">The name requests get when they name none.</param>
/// <param name="ParetoFront">The tuning's whole front on the validation split, cheapest first, named front-01...; absent in files of older <c>tune</c>s.</param>
public sealed record OperatingPointsFile(IReadOnlyList<OperatingPoint> OperatingPoints, string DefaultOperatingPoint, IReadOnlyList<OperatingPoint>? ParetoFront = null)
{
    public const string FileName = "operating-points.json";

    /// <summary>
    /// The points a tuning run chose. With <paramref name="test"/> each is replayed on the test split, so that the
    /// manifest reports held-out figures next to the validation ones they were chosen on; nothing is chosen on it.
    /// </summary>
    public static OperatingPointsFile From(TuningResult result, ExitOutputs? test = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var front = result.ValidationFront.Points
            .Select((p, i) => new NamedOperatingPoint(ModelManifest.FrontPointName(i), p.Thresholds, p.Accuracy, p.RelativeCost, p.ExitShares, p.Source).ToManifest(test))
            .ToList();
        return new OperatingPointsFile([.. result.OperatingPoints.Select(p => p.ToManifest(test))], result.DefaultOperatingPoint, front);
    }

    /// <summary>Reads a file written by <see cref="Save"/>, or by any earlier <c>tune</c>: the JSON is the manifest's.</summary>
    public static OperatingPointsFile Load(string path) =>
        JsonSerializer.Deserialize<OperatingPointsFile>(File.ReadAllText(path), ModelManifest.JsonOptions)
        ?? throw new InvalidDataException($"{path} holds no operating points");

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, ModelManifest.JsonOptions));

    /// <summary>The manifest with these operating points and this default; each point needs one threshold per exit of the manifest.</summary>
    public ModelManifest ApplyTo(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        foreach (OperatingPoint p in OperatingPoints.Concat(ParetoFront ?? []))
        {
            if (p.Thresholds.Count != manifest.Exits.Count)
                throw new ArgumentException($"Operating point '{p.Name}' has {p.Thresholds.Count} thresholds; the manifest has {manifest.Exits.Count} exits.", nameof(manifest));
        }
        return manifest with { OperatingPoints = OperatingPoints, DefaultOperatingPoint = DefaultOperatingPoint, ParetoFront = ParetoFront ?? [] };
    }
}
