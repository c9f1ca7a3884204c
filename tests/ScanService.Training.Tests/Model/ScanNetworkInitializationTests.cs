using ScanService.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Tests.Model;

public class ScanNetworkInitializationTests
{
    [Fact]
    public void The_initial_weights_depend_on_the_seed_and_not_on_the_global_generator()
    {
        var architecture = ScanArchitecture.ResNet18(width: 8);
        random.manual_seed(1);
        using var first = new ScanNetwork(architecture);
        first.Initialize(5);
        random.manual_seed(2);
        using var _ = randn(1000); // another user of the global generator between the two
        using var second = new ScanNetwork(architecture);
        second.Initialize(5);
        using var other = new ScanNetwork(architecture);
        other.Initialize(6);

        var a = first.state_dict();
        var b = second.state_dict();
        var c = other.state_dict();
        foreach (var (name, value) in a)
            Assert.True(value.eq(b[name]).all().item<bool>(), $"{name} differs for the same seed");
        var drawn = a.Where(p => p.Key.EndsWith("weight") && p.Value.dim() >= 2).ToList();
        Assert.NotEmpty(drawn);
        Assert.All(drawn, p => Assert.False(p.Value.eq(c[p.Key]).all().item<bool>(), $"{p.Key} is the same for seeds 5 and 6"));
    }

    [Fact]
    public void Layers_are_drawn_within_libtorchs_default_bounds_and_batch_norms_start_at_identity()
    {
        using var network = new ScanNetwork(ScanArchitecture.ResNet18(width: 8));
        network.Initialize(3);

        foreach (var (name, module) in network.named_modules())
        {
            switch (module)
            {
                case TorchSharp.Modules.Linear linear:
                    {
                        var bound = 1.0 / Math.Sqrt(linear.weight!.shape[1]);
                        AssertUniform(linear.weight, bound, name);
                        AssertUniform(linear.bias!, bound, name);
                        break;
                    }
                case TorchSharp.Modules.Conv2d conv:
                    AssertUniform(conv.weight!, 1.0 / Math.Sqrt(conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3]), name);
                    break;
                case TorchSharp.Modules.BatchNorm2d norm:
                    Assert.True(norm.weight!.eq(1).all().item<bool>(), $"{name} weight");
                    Assert.True(norm.bias!.eq(0).all().item<bool>(), $"{name} bias");
                    break;
            }
        }
    }

    private static void AssertUniform(Tensor values, double bound, string name)
    {
        var data = values.data<float>().ToArray();
        Assert.All(data, v => Assert.InRange(v, -bound, bound));
        // A uniform draw in +-bound fills the range: its extremes lie near the bounds for any layer of some size.
        if (data.Length >= 200)
            Assert.True(data.Max() > 0.9 * bound && data.Min() < -0.9 * bound, $"{name}: {data.Min()}..{data.Max()} for bound {bound}");
    }
}
