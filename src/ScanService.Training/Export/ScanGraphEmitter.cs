using ScanService.Training.Model;

namespace ScanService.Training.Export;

/// <summary>Writes the modules of a <see cref="ScanNetwork"/> (in eval mode) as ONNX nodes, BatchNorm folded.</summary>
public static class ScanGraphEmitter
{
    public static string ConvBn(OnnxGraphBuilder g, ConvBn unit, string x)
    {
        var (w, shape, b) = BatchNormFolding.Fold(unit.Conv.weight!, unit.Norm, outputChannelAxis: 0);
        var y = g.Conv(x, w, shape, b, unit.Stride, [unit.PaddingHeight, unit.PaddingWidth, unit.PaddingHeight, unit.PaddingWidth]);
        return unit.Relu ? g.Relu(y) : y;
    }

    public static string Block(OnnxGraphBuilder g, ResidualBlock block, string x)
    {
        var y = x;
        foreach (var unit in block.MainPath) y = ConvBn(g, unit, y);
        var identity = block.Shortcut is null ? x : ConvBn(g, block.Shortcut, x);
        return g.Relu(g.Add(y, identity));
    }

    public static string Stage(OnnxGraphBuilder g, Stage stage, string x)
    {
        var y = x;
        if (stage.Stem is { } stem)
        {
            y = ConvBn(g, stem.Conv, y);
            if (stem.MaxPool) y = g.MaxPool(y, 3, 2, 1);
        }
        foreach (var block in stage.Blocks) y = Block(g, block, y);
        return y;
    }

    /// <summary>The attended feature: x · sigmoid(up(down(x))), with the upsampling written in <paramref name="form"/>.</summary>
    public static string Attention(OnnxGraphBuilder g, AttentionModule attention, string x, AttentionGraphForm form = AttentionGraphForm.ConvTranspose)
    {
        var down = ConvBn(g, attention.Down, x);
        var target = g.ShapeOf(x);
        if (attention.Mix is { } mix)
        {
            // The nearest form: sigmoid at half resolution, then each value repeated over its 2×2 block.
            var half = g.Sigmoid(ConvBn(g, mix, down));
            return g.Mul(x, g.CropTopLeft(g.UpsampleNearest(half, 2), target[1], target[2]));
        }
        var (w, shape, b) = BatchNormFolding.Fold(attention.Up!.Deconv.weight!, attention.Up.Norm, outputChannelAxis: 1);
        var up = form switch
        {
            AttentionGraphForm.ConvTranspose => g.ConvTranspose(down, w, shape, b, DeconvBn.Stride, DeconvBn.Padding, target[1], target[2]),
            AttentionGraphForm.ConvDepthToSpace => DeconvAsConv.Emit(g, down, w, shape, b, target[1], target[2]),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
        };
        return g.Mul(x, g.Sigmoid(up));
    }

    public static string Head(OnnxGraphBuilder g, ExitHead head, string x)
    {
        var y = x;
        foreach (var unit in head.Bottleneck) y = ConvBn(g, unit, y);
        var pooled = g.GlobalAveragePoolFlat(y);
        var weight = BatchNormFolding.Values(head.Fc.weight!);
        var bias = BatchNormFolding.Values(head.Fc.bias!);
        return g.Gemm(pooled, weight, head.Fc.weight!.shape[0], bias);
    }
}
