using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Model;

/// <summary>
/// A ResNet cut into 4 stages with (for SCAN) an attention module and a shallow classifier after stages
/// 1-3; the 4th exit is the backbone's own head. The plain baseline is the same code without the exits.
/// </summary>
public sealed class ScanNetwork : nn.Module
{
    public ScanArchitecture Architecture { get; }
    public IReadOnlyList<Stage> Stages { get; }
    /// <summary>Attention modules after stages 1-3 (empty for the baseline and the ablation without attention).</summary>
    public IReadOnlyList<AttentionModule> Attention { get; }
    /// <summary>Exit heads in depth order; the last is the backbone's head.</summary>
    public IReadOnlyList<ExitHead> Heads { get; }

    public ScanNetwork(ScanArchitecture architecture) : base("scan")
    {
        architecture.Validate();
        Architecture = architecture;
        var stages = new List<Stage>();
        var inChannels = architecture.BaseWidth;
        for (var s = 0; s < ScanArchitecture.StageCount; s++)
        {
            var width = architecture.BaseWidth << s;
            var stride = s == 0 ? 1 : 2;
            var blocks = new List<ResidualBlock>();
            for (var b = 0; b < architecture.BlocksPerStage[s]; b++)
            {
                blocks.Add(ResidualBlock.Create(architecture.Block, inChannels, width, b == 0 ? stride : 1));
                inChannels = width * architecture.Expansion;
            }
            var stem = s == 0 ? new Stem(architecture.Stem, architecture.InputChannels, architecture.BaseWidth) : null;
            stages.Add(new Stage($"stage{s + 1}", stem, blocks));
        }
        Stages = stages;

        var last = architecture.StageChannels(ScanArchitecture.StageCount - 1);
        var attention = new List<AttentionModule>();
        var heads = new List<ExitHead>();
        if (architecture.EarlyExits)
        {
            var target = architecture.StageSize(ScanArchitecture.StageCount - 1);
            for (var s = 0; s < ScanArchitecture.StageCount - 1; s++)
            {
                if (architecture.AttentionModules)
                    attention.Add(new AttentionModule($"attention{s + 1}", architecture.StageChannels(s), architecture.AttentionUpsampling));
                // Each later stage halves the spatial size, so stage s is 2^(3-s) times the last stage's scale.
                heads.Add(ExitHead.Shallow($"exit{s + 1}", architecture.StageChannels(s), last, 1 << (3 - s), architecture.StageSize(s), target, architecture.Classes));
            }
        }
        heads.Add(ExitHead.Backbone($"exit{ScanArchitecture.StageCount}", last, architecture.Classes));
        Attention = attention;
        Heads = heads;

        for (var i = 0; i < stages.Count; i++) register_module($"stage{i + 1}", stages[i]);
        for (var i = 0; i < attention.Count; i++) register_module($"attention{i + 1}", attention[i]);
        for (var i = 0; i < heads.Count; i++) register_module($"head{i + 1}", heads[i]);
    }

    /// <summary>Runs the whole network and returns every exit's output in depth order.</summary>
    public IReadOnlyList<ExitOutput> Forward(Tensor input)
    {
        var outputs = new List<ExitOutput>(Heads.Count);
        var x = input;
        for (var s = 0; s < Stages.Count; s++)
        {
            var next = Stages[s].forward(x);
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = next;
            if (s < Heads.Count - 1)
            {
                if (s < Attention.Count)
                {
                    using var attended = Attention[s].forward(x);
                    outputs.Add(Heads[s].ForwardExit(attended));
                }
                else
                {
                    outputs.Add(Heads[s].ForwardExit(x));
                }
            }
        }
        outputs.Add(Heads[^1].ForwardExit(x));
        x.Dispose();
        return outputs;
    }

    /// <summary>Per-stage features (what the ONNX stage graphs output), for the export parity check.</summary>
    public IReadOnlyList<Tensor> StageFeatures(Tensor input)
    {
        var features = new List<Tensor>();
        var x = input;
        foreach (var stage in Stages)
        {
            x = stage.forward(x);
            features.Add(x);
        }
        return features;
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>
    /// Draws every convolution and linear layer again from a generator of its own, with libtorch's default
    /// scheme (weights and biases uniform in +-1/sqrt(fan-in), which is Kaiming-uniform with a = sqrt(5));
    /// batch norms keep weight 1 and bias 0. The weights then depend on <paramref name="seed"/> alone, not on
    /// whatever else in the process has drawn from torch's global generator since it was last seeded.
    /// </summary>
    public void Initialize(long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (_, module) in named_modules())
        {
            var (weight, bias) = module switch
            {
                TorchSharp.Modules.Conv2d c => (c.weight, c.bias),
                TorchSharp.Modules.ConvTranspose2d t => (t.weight, t.bias),
                TorchSharp.Modules.Linear l => (l.weight, l.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            // PyTorch's fan-in: the second dimension times the kernel size, for transposed convolutions too.
            var fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            var bound = 1.0 / Math.Sqrt(fanIn);
            weight.uniform_(-bound, bound, generator);
            bias?.uniform_(-bound, bound, generator);
        }
    }
}
