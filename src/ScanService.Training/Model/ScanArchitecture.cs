using System.Text.Json.Serialization;

namespace ScanService.Training.Model;

public enum BlockKind
{
    /// <summary>Two 3x3 convolutions (ResNet-18/34).</summary>
    Basic,
    /// <summary>1x1, 3x3, 1x1 with expansion 4 (ResNet-50/101/152).</summary>
    Bottleneck,
}

public enum StemKind
{
    /// <summary>One 3x3 convolution at stride 1: for 28x28 and 32x32 inputs.</summary>
    Small,
    /// <summary>7x7 stride 2 convolution and 3x3 stride 2 max pooling, as on ImageNet.</summary>
    ImageNet,
}

/// <summary>
/// Everything needed to rebuild a network from its checkpoint: saved with every run and every export.
/// </summary>
public sealed record ScanArchitecture
{
    public BlockKind Block { get; init; } = BlockKind.Basic;
    /// <summary>Blocks per stage; ResNet-18 is 2,2,2,2 and ResNet-50 is 3,4,6,3.</summary>
    public int[] BlocksPerStage { get; init; } = [2, 2, 2, 2];
    /// <summary>Channels of stage 1 before block expansion (64 in the original ResNets); stages double it.</summary>
    public int BaseWidth { get; init; } = 16;
    public StemKind Stem { get; init; } = StemKind.Small;
    public int InputChannels { get; init; } = 1;
    public int InputHeight { get; init; } = 28;
    public int InputWidth { get; init; } = 28;
    public int Classes { get; init; } = 10;
    /// <summary>False for the plain baseline: backbone and its head only, no attention, no shallow exits.</summary>
    public bool EarlyExits { get; init; } = true;
    /// <summary>
    /// False for the ablation without attention modules (self-distillation only, as in "Be Your Own Teacher"): the
    /// shallow classifiers read the stage's feature directly. Ignored for the plain baseline.
    /// </summary>
    public bool AttentionModules { get; init; } = true;
    /// <summary>How an attention module brings its half-resolution map back to the feature's size.</summary>
    public AttentionUpsampling AttentionUpsampling { get; init; } = AttentionUpsampling.Deconvolution;

    public const int StageCount = 4;

    [JsonIgnore]
    public int Expansion => Block == BlockKind.Bottleneck ? 4 : 1;

    /// <summary>Output channels of stage <paramref name="stage"/> (0-based).</summary>
    public int StageChannels(int stage) => BaseWidth * (1 << stage) * Expansion;

    [JsonIgnore]
    public int ExitCount => EarlyExits ? StageCount : 1;

    public string Describe() =>
        $"ResNet-{Depth} ({Block.ToString().ToLowerInvariant()} blocks {string.Join('-', BlocksPerStage)}), width {BaseWidth}, " +
        $"{StemDescription} stem, input {InputChannels}x{InputHeight}x{InputWidth}, {Classes} classes, " +
        (!EarlyExits ? "plain baseline"
            : !AttentionModules ? "4 exits without attention modules (self-distillation only)"
            : AttentionUpsampling == AttentionUpsampling.Nearest ? "SCAN with 4 exits (attention upsampled by nearest neighbour)"
            : "SCAN with 4 exits");

    /// <summary>
    /// Spatial size of stage <paramref name="stage"/>'s output (0-based). The small stem keeps the input size, the
    /// ImageNet stem divides it by 4 (7x7/2 convolution, 3x3/2 max pooling, both padded); every later stage's first
    /// block halves it, rounding up (3x3/2 with padding 1, or 1x1/2 on the shortcut).
    /// </summary>
    public (int Height, int Width) StageSize(int stage)
    {
        static int Half(int n) => (n + 1) / 2;
        var (h, w) = Stem == StemKind.Small ? (InputHeight, InputWidth) : (Half(Half(InputHeight)), Half(Half(InputWidth)));
        for (var s = 1; s <= stage; s++) (h, w) = (Half(h), Half(w));
        return (h, w);
    }

    [JsonIgnore]
    public int Depth => BlocksPerStage.Sum() * (Block == BlockKind.Bottleneck ? 3 : 2) + 2;

    private string StemDescription => Stem == StemKind.Small ? "small-input" : "ImageNet";

    public static ScanArchitecture ResNet18(int width = 16, int channels = 1, int height = 28, int widthPx = 28, int classes = 10) => new()
    {
        Block = BlockKind.Basic, BlocksPerStage = [2, 2, 2, 2], BaseWidth = width,
        InputChannels = channels, InputHeight = height, InputWidth = widthPx, Classes = classes,
    };

    public static ScanArchitecture ResNet50(int width = 16, int channels = 1, int height = 28, int widthPx = 28, int classes = 10) => new()
    {
        Block = BlockKind.Bottleneck, BlocksPerStage = [3, 4, 6, 3], BaseWidth = width,
        InputChannels = channels, InputHeight = height, InputWidth = widthPx, Classes = classes,
    };

    /// <summary>Named shapes accepted by the CLI.</summary>
    public static ScanArchitecture FromName(string name, int width, int channels, int height, int widthPx, int classes) =>
        name.ToLowerInvariant() switch
        {
            "resnet18" => ResNet18(width, channels, height, widthPx, classes),
            "resnet34" => ResNet18(width, channels, height, widthPx, classes) with { BlocksPerStage = [3, 4, 6, 3] },
            "resnet50" => ResNet50(width, channels, height, widthPx, classes),
            "resnet101" => ResNet50(width, channels, height, widthPx, classes) with { BlocksPerStage = [3, 4, 23, 3] },
            _ => throw new ArgumentException($"unknown architecture '{name}': use resnet18, resnet34, resnet50 or resnet101"),
        };

    public void Validate()
    {
        if (BlocksPerStage.Length != StageCount || BlocksPerStage.Any(b => b < 1))
            throw new ArgumentException("a SCAN backbone has exactly 4 stages of at least one block each");
        if (BaseWidth < 1 || InputChannels < 1 || Classes < 2)
            throw new ArgumentException("width and channels must be positive and there must be at least 2 classes");
        if (InputHeight < 8 || InputWidth < 8)
            throw new ArgumentException($"input {InputHeight}x{InputWidth} is too small for 4 stages (at least 8x8)");
    }
}
