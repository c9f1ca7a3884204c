using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Model;

/// <summary>A residual block: a main path of ConvBn units, an optional projection shortcut, add, ReLU.</summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>The main path; every unit but the last ends in ReLU.</summary>
    public IReadOnlyList<ConvBn> MainPath => _main;
    /// <summary>1x1 projection when the shape changes, else null (identity).</summary>
    public ConvBn? Shortcut { get; }

    private readonly ConvBn[] _main;

    private ResidualBlock(string name, ConvBn[] main, ConvBn? shortcut) : base(name)
    {
        _main = main;
        for (var i = 0; i < main.Length; i++) register_module($"main{i}", main[i]);
        Shortcut = shortcut;
        if (shortcut is not null) register_module("shortcut", shortcut);
    }

    public static ResidualBlock Create(BlockKind kind, int inChannels, int width, int stride)
    {
        var expansion = kind == BlockKind.Bottleneck ? 4 : 1;
        var outChannels = width * expansion;
        ConvBn[] main = kind == BlockKind.Basic
            ? [
                new ConvBn("c1", inChannels, width, 3, stride, 1, relu: true),
                new ConvBn("c2", width, width, 3, 1, 1, relu: false),
            ]
            : [
                new ConvBn("c1", inChannels, width, 1, 1, 0, relu: true),
                new ConvBn("c2", width, width, 3, stride, 1, relu: true),
                new ConvBn("c3", width, outChannels, 1, 1, 0, relu: false),
            ];
        var shortcut = stride != 1 || inChannels != outChannels
            ? new ConvBn("proj", inChannels, outChannels, 1, stride, 0, relu: false)
            : null;
        return new ResidualBlock(kind == BlockKind.Basic ? "basic" : "bottleneck", main, shortcut);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = x;
        foreach (var unit in _main) y = unit.forward(y);
        var identity = Shortcut is null ? x : Shortcut.forward(x);
        return y.add_(identity).relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>The stem for the chosen input size: part of stage 1.</summary>
public sealed class Stem : nn.Module<Tensor, Tensor>
{
    public ConvBn Conv { get; }
    /// <summary>True for the ImageNet stem (3x3 max pooling, stride 2, padding 1, after the convolution).</summary>
    public bool MaxPool { get; }

    public Stem(StemKind kind, int inChannels, int outChannels) : base("stem")
    {
        MaxPool = kind == StemKind.ImageNet;
        Conv = kind == StemKind.Small
            ? new ConvBn("conv", inChannels, outChannels, 3, 1, 1, relu: true)
            : new ConvBn("conv", inChannels, outChannels, 7, 2, 3, relu: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (!MaxPool) return Conv.forward(x);
        using var y = Conv.forward(x);
        return nn.functional.max_pool2d(y, 3, 2, 1);
    }
}

/// <summary>One backbone stage (ResNet's layer1..layer4); stage 1 includes the stem.</summary>
public sealed class Stage : nn.Module<Tensor, Tensor>
{
    public Stem? Stem { get; }
    public IReadOnlyList<ResidualBlock> Blocks { get; }

    public Stage(string name, Stem? stem, IReadOnlyList<ResidualBlock> blocks) : base(name)
    {
        Stem = stem;
        if (stem is not null) register_module("stem", stem);
        Blocks = blocks;
        for (var i = 0; i < blocks.Count; i++) register_module($"block{i}", blocks[i]);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Stem is null ? x : Stem.forward(x);
        foreach (var block in Blocks) y = block.forward(y);
        return y.MoveToOuterDisposeScope();
    }
}
