using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ScanService.Training.Model;

/// <summary>How an attention module returns from half resolution to the feature's.</summary>
public enum AttentionUpsampling
{
    /// <summary>ConvTranspose 4×4 stride 2 → BN → sigmoid, as in the paper.</summary>
    Deconvolution,
    /// <summary>
    /// A cheaper form: 1×1 convolution → BN → sigmoid at half resolution, then nearest-neighbour upsampling (each value
    /// covers a 2×2 block). About a sixteenth of the transposed convolution's multiply-adds and a quarter of its sigmoids.
    /// </summary>
    Nearest,
}

/// <summary>
/// SCAN's attention module: Conv3x3/2 → BN → ReLU → ConvTranspose4x4/2 → BN → Sigmoid (or the cheaper
/// <see cref="AttentionUpsampling.Nearest"/> form), a map of the feature's shape multiplied into it. Only the exit
/// head sees the attended feature.
/// </summary>
public sealed class AttentionModule : nn.Module<Tensor, Tensor>
{
    public ConvBn Down { get; }
    /// <summary>The transposed convolution of the paper's form; null in the nearest form.</summary>
    public DeconvBn? Up { get; }
    /// <summary>The 1×1 convolution of the nearest form; null in the paper's form.</summary>
    public ConvBn? Mix { get; }
    public AttentionUpsampling Upsampling { get; }

    public AttentionModule(string name, int channels, AttentionUpsampling upsampling = AttentionUpsampling.Deconvolution) : base(name)
    {
        Upsampling = upsampling;
        Down = new ConvBn("down", channels, channels, 3, 2, 1, relu: true);
        if (upsampling == AttentionUpsampling.Deconvolution) Up = new DeconvBn("up", channels);
        else Mix = new ConvBn("mix", channels, channels, 1, 1, 0, relu: false);
        RegisterComponents();
    }

    /// <summary>The attention map alone (after the sigmoid), for visualisation.</summary>
    public Tensor Map(Tensor feature)
    {
        using var down = Down.forward(feature);
        if (Up is not null)
        {
            using var up = Up.Upsample(down, feature.shape[2], feature.shape[3]);
            return up.sigmoid();
        }
        using var mixed = Mix!.forward(down);
        using var half = mixed.sigmoid();
        // Sigmoid and nearest upsampling commute: the sigmoid runs on a quarter of the values.
        using var full = half.repeat_interleave(2, 2).repeat_interleave(2, 3);
        return full.shape[2] == feature.shape[2] && full.shape[3] == feature.shape[3]
            ? full.alias()
            : full[.., .., ..(int)feature.shape[2], ..(int)feature.shape[3]].contiguous();
    }

    public override Tensor forward(Tensor feature)
    {
        using var map = Map(feature);
        return feature.mul(map);
    }
}

/// <summary>An exit's output: logits and the pooled feature the hint loss compares.</summary>
public readonly record struct ExitOutput(Tensor Logits, Tensor Feature);

/// <summary>
/// A shallow classifier: a bottleneck (1x1 → kxk stride k → 1x1, each with BN and ReLU) that brings an
/// attended feature to the last stage's channels and spatial size, then global average pooling and a
/// fully connected layer. With <see cref="Bottleneck"/> empty it is the backbone's own head.
/// </summary>
public sealed class ExitHead : nn.Module<Tensor, Tensor>
{
    public IReadOnlyList<ConvBn> Bottleneck { get; }
    public Linear Fc { get; }

    private ExitHead(string name, IReadOnlyList<ConvBn> bottleneck, Linear fc) : base(name)
    {
        Bottleneck = bottleneck;
        for (var i = 0; i < bottleneck.Count; i++) register_module($"b{i}", bottleneck[i]);
        Fc = fc;
        register_module("fc", fc);
    }

    /// <summary>
    /// A shallow head for a map of <paramref name="inputSize"/> that ends at <paramref name="targetSize"/>, the deepest
    /// stage's size, <paramref name="scale"/> times smaller. The k×k stride-k convolution (k = scale) is zero-padded
    /// so that its windows cover every row and column of the map and it ends exactly at the target size.
    /// </summary>
    public static ExitHead Shallow(string name, int inChannels, int outChannels, int scale, (int Height, int Width) inputSize, (int Height, int Width) targetSize, int classes)
    {
        var mid = Math.Max(outChannels / 4, inChannels);
        var padding = (ScalePadding(inputSize.Height, targetSize.Height, scale), ScalePadding(inputSize.Width, targetSize.Width, scale));
        return new ExitHead(name,
            [
                new ConvBn("reduce", inChannels, mid, 1, 1, 0, relu: true),
                new ConvBn("scale", mid, mid, scale, scale, padding, relu: true),
                new ConvBn("expand", mid, outChannels, 1, 1, 0, relu: true),
            ],
            nn.Linear(outChannels, classes));
    }

    /// <summary>
    /// Padding on each side for a k×k stride-k convolution from <paramref name="size"/> to <paramref name="target"/>:
    /// half of what the target's windows reach past the map (rounded up), which keeps every pixel inside a window.
    /// </summary>
    public static int ScalePadding(int size, int target, int scale)
    {
        var overhang = target * scale - size;
        if (overhang < 0 || overhang >= scale)
            throw new ArgumentException($"a {scale}x{scale} stride-{scale} convolution cannot take a map of {size} to {target} while reading all of it");
        var padding = (overhang + 1) / 2;
        return padding;
    }

    public static ExitHead Backbone(string name, int channels, int classes) => new(name, [], nn.Linear(channels, classes));

    public ExitOutput ForwardExit(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = x;
        foreach (var unit in Bottleneck) y = unit.forward(y);
        var pooled = y.mean([2L, 3L]);
        var logits = Fc.forward(pooled);
        return new ExitOutput(logits.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }

    public override Tensor forward(Tensor x)
    {
        var output = ForwardExit(x);
        output.Feature.Dispose();
        return output.Logits;
    }
}
