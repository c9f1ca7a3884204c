using Onnx;
using ScanService.Core.Bundle;
using ScanService.Training.Model;

namespace ScanService.Training.Export;

/// <summary>One exported graph: its file name, ONNX model and boundary description.</summary>
public sealed record ExportedGraph(string Role, ModelProto Model, GraphSpec Spec);

/// <summary>
/// The graphs of a SCAN network as the bundle contract wants them: one per stage, per attention module and
/// per classifier, plus the monolithic full-depth graph. Also the source of every cost figure, so that
/// `evaluate`, `tune` and the manifest count multiply-adds the same way.
/// </summary>
public sealed class ScanGraphSet
{
    public IReadOnlyList<ExportedGraph> Stages { get; }
    /// <summary>Null at the deepest exit.</summary>
    public IReadOnlyList<ExportedGraph?> Attention { get; }
    public IReadOnlyList<ExportedGraph> Classifiers { get; }
    public ExportedGraph Monolithic { get; }

    public IEnumerable<ExportedGraph> All =>
        Stages.Concat(Attention.OfType<ExportedGraph>()).Concat(Classifiers).Append(Monolithic);

    private ScanGraphSet(IReadOnlyList<ExportedGraph> stages, IReadOnlyList<ExportedGraph?> attention, IReadOnlyList<ExportedGraph> classifiers, ExportedGraph monolithic)
    {
        (Stages, Attention, Classifiers, Monolithic) = (stages, attention, classifiers, monolithic);
    }

    public static string StageTensor(int stage) => $"feature{stage}";
    public const string InputTensor = "input";
    public const string LogitsTensor = "logits";

    /// <summary>The attention form exports use unless told otherwise: the fastest measured on the CPU provider (docs/BENCHMARKS.md).</summary>
    public const AttentionGraphForm DefaultAttentionForm = AttentionGraphForm.ConvTranspose;

    /// <summary>Builds every graph from the network's current weights; the network must be in eval mode.</summary>
    public static ScanGraphSet Build(ScanNetwork network, AttentionGraphForm attentionForm = DefaultAttentionForm)
    {
        var a = network.Architecture;
        if (network.training) throw new InvalidOperationException("export needs the network in eval mode (BatchNorm running statistics)");
        long[] inputShape = [a.InputChannels, a.InputHeight, a.InputWidth];

        var stages = new List<ExportedGraph>();
        var attention = new List<ExportedGraph?>();
        var classifiers = new List<ExportedGraph>();
        var featureShape = inputShape;
        for (var s = 0; s < network.Stages.Count; s++)
        {
            var inputName = s == 0 ? InputTensor : StageTensor(s);
            var g = new OnnxGraphBuilder($"stage{s + 1}", inputName, featureShape);
            var y = ScanGraphEmitter.Stage(g, network.Stages[s], g.Input);
            featureShape = g.ShapeOf(y);
            stages.Add(Finish(g, y, StageTensor(s + 1), $"stage{s + 1}"));

            var exitIndex = s + 1;
            var isDeepest = s == network.Stages.Count - 1;
            var headInput = StageTensor(s + 1);
            if (!isDeepest && a.EarlyExits && a.AttentionModules)
            {
                var ga = new OnnxGraphBuilder($"attention{exitIndex}", StageTensor(s + 1), featureShape);
                var attended = ScanGraphEmitter.Attention(ga, network.Attention[s], ga.Input, attentionForm);
                attention.Add(Finish(ga, attended, $"attended{exitIndex}", $"attention{exitIndex}"));
                headInput = $"attended{exitIndex}";
            }
            else if (isDeepest || a.EarlyExits)
            {
                attention.Add(null);
            }
            if (isDeepest || a.EarlyExits)
            {
                var head = a.EarlyExits ? network.Heads[s] : network.Heads[^1];
                var gh = new OnnxGraphBuilder($"exit{exitIndex}", headInput, featureShape);
                var logits = ScanGraphEmitter.Head(gh, head, gh.Input);
                classifiers.Add(Finish(gh, logits, LogitsTensor, $"exit{exitIndex}"));
            }
        }

        var gm = new OnnxGraphBuilder("full", InputTensor, inputShape);
        var x = gm.Input;
        foreach (var stage in network.Stages) x = ScanGraphEmitter.Stage(gm, stage, x);
        x = ScanGraphEmitter.Head(gm, network.Heads[^1], x);
        var monolithic = Finish(gm, x, LogitsTensor, "full");
        return new ScanGraphSet(stages, attention, classifiers, monolithic);
    }

    private static ExportedGraph Finish(OnnxGraphBuilder g, string last, string outputName, string role)
    {
        var (model, input, output) = g.Build(last, outputName);
        return new ExportedGraph(role, model, new GraphSpec
        {
            File = role + ".onnx",
            Input = input,
            Output = output,
            MultiplyAdds = g.MultiplyAdds,
            Parameters = g.Parameters,
        });
    }

    /// <summary>
    /// Exits of the bundle with cumulative costs: exit k counts stages 1..k, attention 1..k and heads 1..k,
    /// because under early exit a sample that reaches exit k has paid for every head on the way.
    /// </summary>
    public IReadOnlyList<ExitSpec> ExitSpecs()
    {
        var exits = new List<ExitSpec>();
        long macs = 0, parameters = 0;
        for (var k = 0; k < Classifiers.Count; k++)
        {
            var stage = Stages[Stages.Count - Classifiers.Count + k].Spec;
            var attention = k < Attention.Count ? Attention[k]?.Spec : null;
            var classifier = Classifiers[k].Spec;
            macs += stage.MultiplyAdds + (attention?.MultiplyAdds ?? 0) + classifier.MultiplyAdds;
            // A deployment cut at exit k keeps the stages and the used exit's attention and head, not earlier heads.
            var truncated = Stages.Take(k + 1).Sum(s => s.Spec.Parameters) + (attention?.Parameters ?? 0) + classifier.Parameters;
            parameters = truncated;
            exits.Add(new ExitSpec
            {
                Index = k + 1,
                Attention = attention,
                Classifier = classifier,
                CumulativeMultiplyAdds = macs,
                CumulativeParameters = parameters,
            });
        }
        return exits;
    }

    public IReadOnlyList<StageSpec> StageSpecs() =>
        Stages.Select((s, i) => new StageSpec { Index = i + 1, Graph = s.Spec }).ToList();
}
