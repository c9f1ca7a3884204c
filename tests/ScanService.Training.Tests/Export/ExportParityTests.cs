using ScanService.Core.Bundle;
using ScanService.Core.Inference;
using ScanService.Training.Export;
using ScanService.Training.Model;
using ScanService.Training.Tests.Learning;
using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Tests.Export;

public class ExportParityTests
{
    public static TheoryData<string, int, int, bool> Networks => new()
    {
        { "resnet18", 1, 28, false },
        { "resnet18", 1, 28, true },
        { "resnet18", 3, 32, false },
        { "resnet18", 3, 32, true },
        { "resnet50", 1, 28, false },
        { "resnet50", 1, 28, true },
        { "resnet50", 3, 32, true },
    };

    /// <summary>A few SGD steps on random data: weights and BatchNorm statistics move away from their initial values.</summary>
    internal static void TrainBriefly(ScanNetwork network, int steps = 4)
    {
        var a = network.Architecture;
        var generator = new Generator(99);
        using var optimizer = optim.SGD(network.parameters(), 0.01, 0.9);
        network.train();
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn([8, a.InputChannels, a.InputHeight, a.InputWidth], generator: generator);
            var y = randint(0, a.Classes, [8], generator: generator);
            var loss = new ScanService.Training.Learning.ScanLoss(new()).Compute(network.Forward(x), y).Total;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        network.eval();
    }

    internal static ExportResult ExportTo(ScanNetwork network, string target, double tolerance = ParityCheck.DefaultTolerance, AttentionGraphForm attentionForm = ScanGraphSet.DefaultAttentionForm) =>
        BundleExporter.Export(network, new ExportRequest
        {
            TargetDirectory = target,
            Model = new ModelIdentity("test-model", "1"),
            Labels = Enumerable.Range(0, network.Architecture.Classes).Select(i => $"class {i}").ToList(),
            Mean = Enumerable.Repeat(0.5f, network.Architecture.InputChannels).ToList(),
            Std = Enumerable.Repeat(0.25f, network.Architecture.InputChannels).ToList(),
            ParityTolerance = tolerance,
            AttentionForm = attentionForm,
        });

    [Theory]
    [MemberData(nameof(Networks))]
    public void Every_graph_equals_torchsharp_within_tolerance(string arch, int channels, int size, bool trained)
    {
        using var scratch = new ScratchFolder();
        random.manual_seed(3);
        // Width 16 keeps every 3x3 convolution at 16 channels or more (see ScanTrainerTests on libtorch NaN gradients).
        using var network = new ScanNetwork(ScanArchitecture.FromName(arch, 16, channels, size, size, 10));
        if (trained) TrainBriefly(network);

        var result = ExportTo(network, scratch.PathOf("bundle"));

        // Stages, attention modules and classifiers, plus the monolithic graph; batch 1 and 7 were both checked.
        Assert.Equal(4 + 3 + 4 + 1, result.Parity.Count);
        Assert.All(result.Parity, p => Assert.True(p.Within(ParityCheck.DefaultTolerance), $"{p}"));
        // Logits (every exit and the monolithic graph) meet the absolute tolerance.
        Assert.All(result.Parity.Where(p => p.ProducesLogits), p => Assert.InRange(p.MaxAbsDifference, 0, ParityCheck.DefaultTolerance));
        var bundle = ModelBundle.Load(result.Directory);
        Assert.Equal(channels, bundle.Manifest.Input.Channels);
        Assert.Equal(OnnxGraphBuilder.Opset, bundle.Manifest.Opset);
        Assert.True(bundle.Manifest.Exits.Select(e => e.CumulativeMultiplyAdds).SequenceEqual(bundle.Manifest.Exits.Select(e => e.CumulativeMultiplyAdds).Order()));
    }

    [Fact]
    public void The_nearest_attention_form_trains_exports_within_tolerance_and_costs_less()
    {
        using var scratch = new ScratchFolder();
        random.manual_seed(4);
        var architecture = ScanArchitecture.FromName("resnet18", 16, 1, 28, 28, 10) with { AttentionUpsampling = AttentionUpsampling.Nearest };
        using var network = new ScanNetwork(architecture);
        TrainBriefly(network);
        using var paper = new ScanNetwork(architecture with { AttentionUpsampling = AttentionUpsampling.Deconvolution });
        paper.eval();

        var result = ExportTo(network, scratch.PathOf("bundle"));

        Assert.All(result.Parity, p => Assert.True(p.Within(ParityCheck.DefaultTolerance), $"{p}"));
        // Odd maps (7x7 at stage 3) are cropped after the upsampling: the map has the feature's shape.
        using (no_grad())
        {
            var feature = randn([2, 64, 7, 7]);
            using var map = network.Attention[2].Map(feature);
            Assert.Equal(feature.shape, map.shape);
            // Each value of the map covers a 2x2 block.
            Assert.Equal(map[.., .., 0, 0].data<float>().ToArray(), map[.., .., 1, 1].data<float>().ToArray());
        }
        var paperGraphs = ScanService.Training.Export.ScanGraphSet.Build(paper);
        var nearestAttention = result.Manifest.Exits.Take(3).Sum(e => e.Attention!.MultiplyAdds);
        var paperAttention = paperGraphs.Attention.Take(3).Sum(a => a!.Spec.MultiplyAdds);
        Assert.True(nearestAttention < 0.75 * paperAttention, $"{nearestAttention} vs {paperAttention} multiply-adds");
    }

    [Fact]
    public void The_monolithic_graph_answers_as_the_chained_graphs_at_full_depth()
    {
        using var scratch = new ScratchFolder();
        random.manual_seed(5);
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(16));
        TrainBriefly(network);
        var result = ExportTo(network, scratch.PathOf("bundle"));

        using var engine = EarlyExitEngine.Create(ModelBundle.Load(result.Directory), new ExecutionProviderChoice(OnnxSessions.CpuProvider, "test"));
        var input = randn([7, 1, 28, 28], generator: new Generator(11)).data<float>().ToArray();
        var chained = engine.Run(input, 7, engine.Resolve(new InferenceOptions { FullDepth = true }));
        var monolithic = engine.RunMonolithic(input, 7);
        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(monolithic[i].ClassIndex, chained[i].ClassIndex);
            Assert.Equal(4, chained[i].Exit);
            for (var c = 0; c < 10; c++) Assert.Equal(monolithic[i].Probabilities[c], chained[i].Probabilities[c], 5);
        }
    }

    [Fact]
    public void A_failed_export_leaves_the_existing_bundle_untouched()
    {
        using var scratch = new ScratchFolder();
        random.manual_seed(8);
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(16));
        var target = scratch.PathOf("bundle");
        ExportTo(network, target);
        var before = Directory.GetFiles(target).ToDictionary(f => Path.GetFileName(f), f => ModelBundle.Sha256Of(f));

        TrainBriefly(network);
        // A negative tolerance cannot be met: the parity check refuses the new bundle and names a graph.
        var error = Assert.Throws<ExportParityException>(() => ExportTo(network, target, tolerance: -1));
        Assert.Matches(@"graph \w+\.onnx differs", error.Message);

        var after = Directory.GetFiles(target).ToDictionary(f => Path.GetFileName(f), f => ModelBundle.Sha256Of(f));
        Assert.Equal(before, after);
        Assert.Single(Directory.GetDirectories(scratch.Root));
    }

    [Fact]
    public void Exporting_over_a_bundle_replaces_it_whole()
    {
        using var scratch = new ScratchFolder();
        random.manual_seed(9);
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(16));
        var target = scratch.PathOf("bundle");
        var first = ExportTo(network, target);
        // The user's own files in the folder (a README) are theirs; a graph the old bundle listed is the bundle's.
        File.WriteAllText(Path.Combine(target, "README.md"), "# my model");
        TrainBriefly(network);
        var second = ExportTo(network, target);

        Assert.NotEqual(first.Manifest.Files["stage1.onnx"], second.Manifest.Files["stage1.onnx"]);
        Assert.Equal(second.Manifest.Files["stage1.onnx"], ModelBundle.Sha256Of(Path.Combine(target, "stage1.onnx")));
        Assert.Single(Directory.GetDirectories(scratch.Root));
        Assert.Equal("# my model", File.ReadAllText(Path.Combine(target, "README.md")));
        Assert.Equal(second.Manifest.Files.Keys.Append("manifest.json").Append("README.md").Order(), Directory.GetFiles(target).Select(Path.GetFileName).Order());
    }
}
