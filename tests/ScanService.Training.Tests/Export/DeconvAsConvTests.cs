using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;
using ScanService.Training.Export;
using ScanService.Training.Model;
using ScanService.Training.Tests.Learning;
using static TorchSharp.torch;

namespace ScanService.Training.Tests.Export;

public class DeconvAsConvTests
{
    /// <summary>Input channels, output channels, input size, output size (odd outputs are the transposed convolution's crop).</summary>
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 1, 1, 4, 8 },
        { 3, 5, 4, 7 },
        { 16, 16, 14, 28 },
        { 16, 16, 7, 14 },
        { 32, 32, 4, 7 },
        { 8, 4, 5, 9 },
        { 2, 6, 3, 5 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_rewritten_upsampling_equals_the_transposed_convolution_on_random_inputs(int inChannels, int outChannels, int size, int outSize)
    {
        var random = new Random(inChannels * 100 + size);
        var weight = RandomValues(random, inChannels * outChannels * 16);
        var bias = RandomValues(random, outChannels);
        long[] shape = [inChannels, outChannels, 4, 4];

        var deconv = new OnnxGraphBuilder("deconv", "x", inChannels, size, size);
        var a = deconv.ConvTranspose(deconv.Input, weight, shape, bias, 2, 1, outSize, outSize);
        var rewritten = new OnnxGraphBuilder("conv", "x", inChannels, size, size);
        var b = DeconvAsConv.Emit(rewritten, rewritten.Input, weight, shape, bias, outSize, outSize);

        Assert.Equal(deconv.ShapeOf(a), rewritten.ShapeOf(b));
        // The model's arithmetic is counted, not the rewritten kernel's zero taps.
        Assert.Equal(deconv.MultiplyAdds, rewritten.MultiplyAdds);
        var deconvModel = deconv.Build(a, "y").Model.ToByteArray();
        var rewrittenModel = rewritten.Build(b, "y").Model.ToByteArray();
        foreach (var batch in new[] { 1, 3 })
        {
            var input = RandomValues(random, batch * inChannels * size * size);
            var expected = Run(deconvModel, input, [batch, inChannels, size, size]);
            var actual = Run(rewrittenModel, input, [batch, inChannels, size, size]);
            Assert.Equal(batch * outChannels * outSize * outSize, actual.Length);
            var worst = expected.Zip(actual, (e, x) => Math.Abs(e - x)).Max();
            Assert.True(worst <= 1e-5, $"largest difference {worst:E2}");
        }
    }

    [Fact]
    public void Weights_put_each_phase_taps_where_the_transposed_convolution_reads_them()
    {
        // One input and one output channel, weight value = its kernel index ky·4 + kx + 1: every tap is identifiable.
        var weight = Enumerable.Range(0, 16).Select(i => (float)(i + 1)).ToArray();
        var (w, shape, bias) = DeconvAsConv.Weights(weight, [1, 1, 4, 4], [0.5f]);
        Assert.Equal(new long[] { 4, 1, 3, 3 }, shape);
        Assert.All(bias, v => Assert.Equal(0.5f, v));
        // Phase (a, b) = (0, 0): taps d, e ∈ {−1, 0} at kernel rows/columns 1 − 2d ∈ {3, 1}; five of nine taps are zero.
        float Tap(int phase, int row, int column) => w[phase * 9 + row * 3 + column];
        Assert.Equal(3 * 4 + 3 + 1, Tap(0, 0, 0)); // d = e = −1 → kernel (3, 3)
        Assert.Equal(1 * 4 + 1 + 1, Tap(0, 1, 1)); // d = e = 0 → kernel (1, 1)
        Assert.Equal(0, Tap(0, 2, 2));
        // Phase (1, 1): d, e ∈ {0, 1} at kernel 2 − 2d ∈ {2, 0}.
        Assert.Equal(2 * 4 + 2 + 1, Tap(3, 1, 1));
        Assert.Equal(0 * 4 + 0 + 1, Tap(3, 2, 2));
        Assert.Equal(0, Tap(3, 0, 0));
        for (var phase = 0; phase < 4; phase++) Assert.Equal(5, Enumerable.Range(0, 9).Count(t => w[phase * 9 + t] == 0));
        Assert.Throws<ArgumentException>(() => DeconvAsConv.Weights(new float[9], [1, 1, 3, 3], [0f]));
    }

    [Fact]
    public void A_bundle_with_rewritten_attention_graphs_passes_parity_and_answers_as_the_transposed_form()
    {
        using var scratch = new ScratchFolder();
        random.manual_seed(5);
        using var network = new ScanNetwork(ScanArchitecture.FromName("resnet18", 16, 1, 28, 28, 10));
        ExportParityTests.TrainBriefly(network);

        var deconv = ExportParityTests.ExportTo(network, scratch.PathOf("deconv"), attentionForm: AttentionGraphForm.ConvTranspose);
        var rewritten = ExportParityTests.ExportTo(network, scratch.PathOf("conv"), attentionForm: AttentionGraphForm.ConvDepthToSpace);

        Assert.All(rewritten.Parity, p => Assert.True(p.Within(ParityCheck.DefaultTolerance), $"{p}"));
        var kinds = File.ReadAllBytes(Path.Combine(rewritten.Directory, "attention1.onnx"));
        Assert.Contains("DepthToSpace", System.Text.Encoding.ASCII.GetString(kinds));
        Assert.DoesNotContain("ConvTranspose", System.Text.Encoding.ASCII.GetString(kinds));
        // Same costs in the manifest, same answers at every exit.
        Assert.Equal(deconv.Manifest.Exits.Select(e => e.CumulativeMultiplyAdds), rewritten.Manifest.Exits.Select(e => e.CumulativeMultiplyAdds));
        for (var k = 1; k <= 3; k++)
        {
            var file = $"attention{k}.onnx";
            var spec = deconv.Manifest.Exits[k - 1].Attention!;
            long[] dims = [5, .. spec.Input.Shape.Skip(1)];
            var values = RandomValues(new Random(k), (int)dims.Aggregate(1L, (p, d) => p * d));
            var expected = Run(File.ReadAllBytes(Path.Combine(deconv.Directory, file)), values, dims, spec.Input.Name);
            var actual = Run(File.ReadAllBytes(Path.Combine(rewritten.Directory, file)), values, dims, spec.Input.Name);
            Assert.True(expected.Zip(actual, (e, x) => Math.Abs(e - x)).Max() <= 1e-5);
        }
    }

    private static float[] RandomValues(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    private static float[] Run(byte[] model, float[] input, long[] shape, string inputName = "x")
    {
        using var session = OnnxSessions.CreateSession(model, new ExecutionProviderChoice(OnnxSessions.CpuProvider, "test"));
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
