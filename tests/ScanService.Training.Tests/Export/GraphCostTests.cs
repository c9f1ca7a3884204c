using ScanService.Training.Export;
using ScanService.Training.Model;

namespace ScanService.Training.Tests.Export;

public class GraphCostTests
{
    [Fact]
    public void A_convolution_costs_output_positions_times_kernel_volume()
    {
        var g = new OnnxGraphBuilder("t", "x", 3, 8, 8);
        // 3 -> 5 channels, 3x3, stride 2, padding 1: 4x4 outputs.
        var y = g.Conv(g.Input, new float[5 * 3 * 9], [5, 3, 3, 3], new float[5], 2, [1, 1, 1, 1]);
        Assert.Equal(new long[] { 5, 4, 4 }, g.ShapeOf(y));
        Assert.Equal(5L * 4 * 4 * 3 * 9, g.MultiplyAdds);
        Assert.Equal(5L * 3 * 9 + 5, g.Parameters);
    }

    [Fact]
    public void Exit_costs_count_every_stage_attention_module_and_head_on_the_way()
    {
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(4));
        network.eval();
        var graphs = ScanGraphSet.Build(network);
        var exits = graphs.ExitSpecs();
        long running = 0;
        for (var k = 0; k < 4; k++)
        {
            running += graphs.Stages[k].Spec.MultiplyAdds + (graphs.Attention[k]?.Spec.MultiplyAdds ?? 0) + graphs.Classifiers[k].Spec.MultiplyAdds;
            Assert.Equal(running, exits[k].CumulativeMultiplyAdds);
        }
        // The monolithic graph runs the stages and the deepest head only, so the deepest exit of the chain costs more.
        var monolithic = graphs.Stages.Sum(s => s.Spec.MultiplyAdds) + graphs.Classifiers[3].Spec.MultiplyAdds;
        Assert.Equal(monolithic, graphs.Monolithic.Spec.MultiplyAdds);
        Assert.True(exits[3].CumulativeMultiplyAdds > monolithic);
    }
}
