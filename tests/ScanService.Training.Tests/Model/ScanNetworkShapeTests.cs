using ScanService.Training.Model;
using static TorchSharp.torch;

namespace ScanService.Training.Tests.Model;

public class ScanNetworkShapeTests
{
    public static TheoryData<string, int, int, int> Shapes => new()
    {
        { "resnet18", 1, 28, 28 },
        { "resnet18", 3, 32, 32 },
        { "resnet50", 1, 28, 28 },
        { "resnet50", 3, 32, 32 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_stage_attention_map_and_exit_has_the_expected_shape(string arch, int channels, int height, int width)
    {
        var a = ScanArchitecture.FromName(arch, 4, channels, height, width, 10);
        using var network = new ScanNetwork(a);
        network.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, channels, height, width);

        var features = network.StageFeatures(x);
        long h = height, w = width;
        for (var s = 0; s < 4; s++)
        {
            if (s > 0) (h, w) = ((h + 1) / 2, (w + 1) / 2);
            Assert.Equal(new long[] { 2, a.StageChannels(s), h, w }, features[s].shape);
            if (s < 3)
            {
                // The attention map has the feature's shape, values in (0, 1), and is applied elementwise.
                var map = network.Attention[s].Map(features[s]);
                Assert.Equal(features[s].shape, map.shape);
                Assert.True(map.min().item<float>() >= 0 && map.max().item<float>() <= 1);
                Assert.True(network.Attention[s].forward(features[s]).allclose(features[s] * map));
            }
        }

        var exits = network.Forward(x);
        Assert.Equal(4, exits.Count);
        foreach (var exit in exits)
        {
            Assert.Equal(new long[] { 2, 10 }, exit.Logits.shape);
            Assert.Equal(new long[] { 2, a.StageChannels(3) }, exit.Feature.shape);
        }
    }

    [Fact]
    public void The_baseline_has_only_the_backbone_head()
    {
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(4) with { EarlyExits = false });
        Assert.Empty(network.Attention);
        Assert.Single(network.Heads);
        using var scope = NewDisposeScope();
        var outputs = network.Forward(randn(3, 1, 28, 28));
        Assert.Single(outputs);
        Assert.Equal(new long[] { 3, 10 }, outputs[0].Logits.shape);
    }

    [Fact]
    public void The_deepest_exit_of_scan_and_the_baseline_share_the_backbone_structure()
    {
        using var scan = new ScanNetwork(ScanArchitecture.ResNet18(4));
        using var baseline = new ScanNetwork(ScanArchitecture.ResNet18(4) with { EarlyExits = false });
        var backboneParameters = scan.Stages.Sum(s => s.parameters().Sum(p => p.numel())) + scan.Heads[^1].parameters().Sum(p => p.numel());
        Assert.Equal(baseline.ParameterCount(), backboneParameters);
    }

    [Theory]
    [InlineData(4, 8)]
    [InlineData(28, 7)]
    public void Inputs_too_small_for_four_stages_are_refused(int height, int width)
    {
        var a = ScanArchitecture.ResNet18(4) with { InputHeight = height, InputWidth = width };
        Assert.Throws<ArgumentException>(() => new ScanNetwork(a));
    }

    public static TheoryData<string, int, int, StemKind> HeadShapes => new()
    {
        { "resnet18", 28, 28, StemKind.Small },
        { "resnet18", 32, 32, StemKind.Small },
        { "resnet18", 30, 27, StemKind.Small },
        { "resnet50", 28, 28, StemKind.Small },
        { "resnet18", 64, 64, StemKind.ImageNet },
    };

    [Theory]
    [MemberData(nameof(HeadShapes))]
    public void Every_shallow_head_reads_its_whole_map_and_ends_at_the_deepest_stage_size(string arch, int height, int width, StemKind stem)
    {
        var a = ScanArchitecture.FromName(arch, 4, 1, height, width, 10) with { Stem = stem };
        using var network = new ScanNetwork(a);
        network.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = network.StageFeatures(randn(1, 1, height, width));
        var deepest = features[3].shape;
        for (var s = 0; s < 3; s++)
        {
            var head = network.Heads[s];
            var map = features[s];
            Assert.Equal(a.StageSize(s), ((int)map.shape[2], (int)map.shape[3]));
            var bottleneck = Bottleneck(head, map);
            Assert.Equal(deepest[2], bottleneck.shape[2]);
            Assert.Equal(deepest[3], bottleneck.shape[3]);

            var reference = head.forward(map);
            var lastRow = map.clone();
            lastRow[.., .., -1, ..] = lastRow[.., .., -1, ..] + 5;
            Assert.False(head.forward(lastRow).allclose(reference), $"head {s + 1} ignores the last row of its {map.shape[2]}x{map.shape[3]} map");
            var lastColumn = map.clone();
            lastColumn[.., .., .., -1] = lastColumn[.., .., .., -1] + 5;
            Assert.False(head.forward(lastColumn).allclose(reference), $"head {s + 1} ignores the last column of its {map.shape[2]}x{map.shape[3]} map");
        }
    }

    private static Tensor Bottleneck(ExitHead head, Tensor x)
    {
        var y = x;
        foreach (var unit in head.Bottleneck) y = unit.forward(y);
        return y;
    }

    [Theory]
    [InlineData(28, 4, 8, 2)]
    [InlineData(14, 4, 4, 1)]
    [InlineData(7, 4, 2, 1)]
    [InlineData(32, 4, 8, 0)]
    public void The_scale_convolution_pads_just_enough_to_cover_the_map(int size, int target, int scale, int padding) =>
        Assert.Equal(padding, ExitHead.ScalePadding(size, target, scale));

    [Fact]
    public void The_ablation_without_attention_has_shallow_exits_but_no_attention_modules()
    {
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(4) with { AttentionModules = false });
        Assert.Empty(network.Attention);
        Assert.Equal(4, network.Heads.Count);
        using var scan = new ScanNetwork(ScanArchitecture.ResNet18(4));
        Assert.Equal(scan.ParameterCount() - scan.Attention.Sum(m => m.parameters().Sum(p => p.numel())), network.ParameterCount());
        using var scope = NewDisposeScope();
        var outputs = network.Forward(randn(2, 1, 28, 28));
        Assert.Equal(4, outputs.Count);
        Assert.All(outputs, o => Assert.Equal(new long[] { 2, 10 }, o.Logits.shape));
    }
}
