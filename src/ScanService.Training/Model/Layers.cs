using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ScanService.Training.Model;

/// <summary>
/// Convolution without bias followed by batch normalisation and an optional ReLU: the unit the exporter
/// folds into one ONNX Conv.
/// </summary>
public sealed class ConvBn : nn.Module<Tensor, Tensor>
{
    public Conv2d Conv { get; }
    public BatchNorm2d Norm { get; }
    public bool Relu { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    /// <summary>Zero padding above and below.</summary>
    public int PaddingHeight { get; }
    /// <summary>Zero padding left and right.</summary>
    public int PaddingWidth { get; }

    public ConvBn(string name, int inChannels, int outChannels, int kernel, int stride, int padding, bool relu)
        : this(name, inChannels, outChannels, kernel, stride, (padding, padding), relu)
    {
    }

    public ConvBn(string name, int inChannels, int outChannels, int kernel, int stride, (int Height, int Width) padding, bool relu) : base(name)
    {
        (InChannels, OutChannels, Kernel, Stride, PaddingHeight, PaddingWidth, Relu) = (inChannels, outChannels, kernel, stride, padding.Height, padding.Width, relu);
        Conv = nn.Conv2d(inChannels, outChannels, (kernel, kernel), stride: (stride, stride), padding: (padding.Height, padding.Width), bias: false);
        Norm = nn.BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var conv = Conv.forward(x);
        var y = Norm.forward(conv);
        return Relu ? y.relu_() : y;
    }
}

/// <summary>Transposed convolution 4x4 stride 2 with batch normalisation, cropped to the size it must restore.</summary>
public sealed class DeconvBn : nn.Module<Tensor, Tensor>
{
    public ConvTranspose2d Deconv { get; }
    public BatchNorm2d Norm { get; }
    public int Channels { get; }
    public const int Kernel = 4;
    public const int Stride = 2;
    public const int Padding = 1;

    public DeconvBn(string name, int channels) : base(name)
    {
        Channels = channels;
        Deconv = nn.ConvTranspose2d(channels, channels, Kernel, stride: Stride, padding: Padding, bias: false);
        Norm = nn.BatchNorm2d(channels);
        RegisterComponents();
    }

    /// <summary>Upsamples and crops to <paramref name="height"/> x <paramref name="width"/> (odd sizes come back one larger).</summary>
    public Tensor Upsample(Tensor x, long height, long width)
    {
        using var up = Deconv.forward(x);
        using var cropped = up.shape[2] == height && up.shape[3] == width
            ? up.alias()
            : up[.., .., ..(int)height, ..(int)width];
        return Norm.forward(cropped);
    }

    public override Tensor forward(Tensor x) => Upsample(x, x.shape[2] * 2, x.shape[3] * 2);
}
