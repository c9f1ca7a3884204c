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
}
