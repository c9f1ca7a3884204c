using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Inference;
using ScanService.Training.Model;
using static TorchSharp.torch;

namespace ScanService.Training.Export;

/// <summary>The largest difference found for one graph.</summary>
public sealed record GraphDifference(string File, double MaxAbsDifference, double MaxAbsReference = 0, bool ProducesLogits = true)
{
    /// <summary>
    /// Logits are held to the absolute tolerance; intermediate features (whose scale training does not bound)
    /// to the tolerance relative to their largest magnitude when that exceeds 1, float32's own precision limit.
    /// </summary>
    public double Allowed(double tolerance) => ProducesLogits ? tolerance : tolerance * Math.Max(1, MaxAbsReference);

    public bool Within(double tolerance) => !double.IsNaN(MaxAbsDifference) && MaxAbsDifference <= Allowed(tolerance);
}

public sealed class ExportParityException(string message) : Exception(message);

/// <summary>
/// Runs the same inputs through TorchSharp (eval mode) and ONNX Runtime, graph by graph: each graph gets the
/// TorchSharp value of its own input, so a difference points at the one graph that causes it. The chained
/// logits and the monolithic graph are compared with TorchSharp's final outputs as well.
/// </summary>
public static class ParityCheck
{
    public const double DefaultTolerance = 1e-4;

    public static IReadOnlyList<GraphDifference> Run(ScanNetwork network, ScanGraphSet graphs, string bundleDirectory, Tensor input, double tolerance = DefaultTolerance)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        var provider = new ExecutionProviderChoice(OnnxSessions.CpuProvider, "parity check");
        var results = new List<GraphDifference>();

        var features = network.StageFeatures(input);
        var outputs = network.Forward(input);
        var previous = input;
        for (var s = 0; s < graphs.Stages.Count; s++)
        {
            results.Add(Compare(graphs.Stages[s], bundleDirectory, provider, previous, features[s]));
            previous = features[s];
        }
        for (var k = 0; k < graphs.Classifiers.Count; k++)
        {
            var stageFeature = features[features.Count - graphs.Classifiers.Count + k];
            var headInput = stageFeature;
            if (graphs.Attention[k] is { } attention)
            {
                headInput = network.Attention[k].forward(stageFeature);
                results.Add(Compare(attention, bundleDirectory, provider, stageFeature, headInput));
            }
            results.Add(Compare(graphs.Classifiers[k], bundleDirectory, provider, headInput, outputs[k].Logits));
        }
        results.Add(Compare(graphs.Monolithic, bundleDirectory, provider, input, outputs[^1].Logits));

        if (results.FirstOrDefault(r => !r.Within(tolerance)) is { } worst)
            throw new ExportParityException(
                $"graph {worst.File} differs from TorchSharp by {worst.MaxAbsDifference:E2} (allowed {worst.Allowed(tolerance):E1}, largest value {worst.MaxAbsReference:E2}); the bundle was not written");
        return results;
    }

    private static GraphDifference Compare(ExportedGraph graph, string directory, ExecutionProviderChoice provider, Tensor input, Tensor expected)
    {
        using var session = OnnxSessions.CreateSession(Path.Combine(directory, graph.Spec.File), provider);
        var data = input.contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [graph.Spec.Input.Name], [value], [graph.Spec.Output.Name]);
        var actual = outputs[0].GetTensorDataAsSpan<float>();
        var reference = expected.contiguous().data<float>().ToArray();
        if (actual.Length != reference.Length)
            throw new ExportParityException($"graph {graph.Spec.File} gives {actual.Length} values, TorchSharp {reference.Length}");
        double max = 0, magnitude = 0;
        var logits = graph.Spec.Output.Name == ScanGraphSet.LogitsTensor;
        for (var i = 0; i < reference.Length; i++)
        {
            var d = Math.Abs(actual[i] - reference[i]);
            if (double.IsNaN(d)) return new GraphDifference(graph.Spec.File, double.NaN, double.NaN, logits);
            max = Math.Max(max, d);
            magnitude = Math.Max(magnitude, Math.Abs(reference[i]));
        }
        return new GraphDifference(graph.Spec.File, max, magnitude, logits);
    }
}
