using Onnx;
using ScanService.Core.Bundle;
using ScanService.Training.Model;
using ScanService.Training.Tuning;
using static TorchSharp.torch;

namespace ScanService.Training.Export;

/// <summary>What the bundle says beyond the network itself.</summary>
public sealed record ExportRequest
{
    public required string TargetDirectory { get; init; }
    public required ModelIdentity Model { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public required IReadOnlyList<float> Mean { get; init; }
    public required IReadOnlyList<float> Std { get; init; }
    public ResizeMode Resize { get; init; } = ResizeMode.Stretch;
    /// <summary>What <c>tune</c> chose; none: the bundle answers at full depth until tuned.</summary>
    public OperatingPointsFile? OperatingPoints { get; init; }
    public TrainingRecord? Training { get; init; }
    /// <summary>Every exit's confidence and correctness on the validation split, carried for calibration on the serving machine; none: not carried.</summary>
    public Core.Calibration.ValidationRecords? ValidationRecords { get; init; }
    /// <summary>Inputs for the parity check (N×C×H×W); random normal inputs of batch 1 and 7 are always added.</summary>
    public Tensor? ParityInput { get; init; }
    public double ParityTolerance { get; init; } = ParityCheck.DefaultTolerance;
    /// <summary>How the attention modules' upsampling is written (every form computes the same values).</summary>
    public AttentionGraphForm AttentionForm { get; init; } = ScanGraphSet.DefaultAttentionForm;
}

public sealed record ExportResult(ModelManifest Manifest, string Directory, IReadOnlyList<GraphDifference> Parity)
{
    public double MaxParityDifference => Parity.Max(p => p.MaxAbsDifference);
}

/// <summary>
/// Writes a model bundle: graphs and manifest into a temporary folder beside the target, a parity check
/// against TorchSharp, then a move into place, so a failed export never leaves a half-written bundle where a
/// good one was.
/// </summary>
public static class BundleExporter
{
    public static ExportResult Export(ScanNetwork network, ExportRequest request)
    {
        var a = network.Architecture;
        if (!a.EarlyExits) throw new ArgumentException("the plain baseline has no exits; export a SCAN network");
        if (request.Labels.Count != a.Classes)
            throw new ArgumentException($"{request.Labels.Count} labels for a network of {a.Classes} classes");

        network.eval();
        var graphs = ScanGraphSet.Build(network, request.AttentionForm);
        var target = Path.GetFullPath(request.TargetDirectory);
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException("the target needs a parent folder");
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var graph in graphs.All)
            {
                var path = Path.Combine(staging, graph.Spec.File);
                graph.Model.WriteToFile(path);
                files[graph.Spec.File] = ModelBundle.Sha256Of(path);
            }

            var manifest = new ModelManifest
            {
                SchemaVersion = ModelManifest.CurrentSchemaVersion,
                Model = request.Model,
                Input = new InputSpec
                {
                    Channels = a.InputChannels,
                    Height = a.InputHeight,
                    Width = a.InputWidth,
                    ColorMode = a.InputChannels == 1 ? ColorMode.Grayscale : ColorMode.Rgb,
                    Mean = request.Mean,
                    Std = request.Std,
                    Resize = request.Resize,
                },
                Labels = request.Labels,
                Opset = OnnxGraphBuilder.Opset,
                Stages = graphs.StageSpecs(),
                Exits = graphs.ExitSpecs(),
                Monolithic = graphs.Monolithic.Spec,
                Training = (request.Training ?? new TrainingRecord()) with { Architecture = a.Describe() },
                Files = files,
            };
            if (request.ValidationRecords is { } records)
            {
                if (records.ExitCount != manifest.Exits.Count)
                    throw new ArgumentException($"the validation records have {records.ExitCount} exits; the network has {manifest.Exits.Count}");
                var path = Path.Combine(staging, Core.Calibration.ValidationRecords.FileName);
                records.Save(path);
                files[Core.Calibration.ValidationRecords.FileName] = ModelBundle.Sha256Of(path);
                manifest = manifest with { ValidationRecords = Core.Calibration.ValidationRecords.FileName };
            }
            if (request.OperatingPoints is { } tuned) manifest = tuned.ApplyTo(manifest);
            ModelBundle.Validate(manifest);
            File.WriteAllText(Path.Combine(staging, ModelManifest.FileName), manifest.ToJson());

            var parity = new List<GraphDifference>();
            foreach (var input in ParityInputs(a, request.ParityInput))
            {
                using (input)
                    parity.AddRange(ParityCheck.Run(network, graphs, staging, input, request.ParityTolerance));
            }
            var worstPerFile = parity.GroupBy(p => p.File).Select(g => g.MaxBy(p => p.MaxAbsDifference)!).ToList();

            ModelBundle.Load(staging); // the reader the service uses must accept what was written
            Replace(target, staging);
            return new ExportResult(manifest, target, worstPerFile);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static IEnumerable<Tensor> ParityInputs(ScanArchitecture a, Tensor? given)
    {
        var generator = new Generator(1234);
        yield return randn([1, a.InputChannels, a.InputHeight, a.InputWidth], generator: generator);
        yield return randn([7, a.InputChannels, a.InputHeight, a.InputWidth], generator: generator);
        if (given is not null) yield return given.alias();
    }

    /// <summary>
    /// Moves the staged bundle into place; an existing bundle is moved aside first and removed only once the new one is
    /// in place. Files of the folder that are not part of the old bundle (a README, a licence: anything that is neither
    /// manifest.json nor listed in its files) are the user's and are carried over; the new bundle's own files win.
    /// </summary>
    private static void Replace(string target, string staging)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staging, target);
            return;
        }
        foreach (var file in UsersFiles(target))
        {
            var copy = Path.Combine(staging, Path.GetFileName(file));
            if (!File.Exists(copy)) File.Copy(file, copy);
        }
        var aside = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.previous-{Guid.NewGuid():N}");
        Directory.Move(target, aside);
        try
        {
            Directory.Move(staging, target);
        }
        catch
        {
            Directory.Move(aside, target);
            throw;
        }
        Directory.Delete(aside, recursive: true);
    }

    /// <summary>Files of <paramref name="folder"/> that its bundle does not own; with no readable manifest, none are judged the user's but files the export would not write either.</summary>
    private static IEnumerable<string> UsersFiles(string folder)
    {
        var owned = new HashSet<string>(StringComparer.Ordinal) { ModelManifest.FileName };
        try
        {
            owned.UnionWith(ModelBundle.ReadManifest(Path.Combine(folder, ModelManifest.FileName)).Files.Keys);
        }
        catch (Exception e) when (e is IOException or BundleValidationException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            // Not a bundle we can read: its .onnx files are not carried over, anything else is.
            return Directory.GetFiles(folder).Where(f => !f.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && Path.GetFileName(f) != ModelManifest.FileName);
        }
        return Directory.GetFiles(folder).Where(f => !owned.Contains(Path.GetFileName(f)));
    }
}
