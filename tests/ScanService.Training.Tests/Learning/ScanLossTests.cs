using ScanService.Training.Model;
using ScanService.Training.Learning;
using static TorchSharp.torch;

namespace ScanService.Training.Tests.Learning;

public class ScanLossTests
{
    private static double Ce(double[] logits, int label)
    {
        var max = logits.Max();
        var lse = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
        return lse - logits[label];
    }

    private static double[] Softmax(double[] logits, double t)
    {
        var e = logits.Select(l => Math.Exp(l / t)).ToArray();
        var s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    [Fact]
    public void Distillation_is_batch_mean_of_kl_from_teacher_to_student_at_temperature()
    {
        double[][] student = [[1.0, 2.0, 0.5], [0.2, -1.0, 3.0]];
        double[][] teacher = [[2.0, 0.0, 1.0], [0.0, 0.0, 4.0]];
        const double t = 3.0;
        double expected = 0;
        for (var i = 0; i < 2; i++)
        {
            var p = Softmax(teacher[i], t);
            var q = Softmax(student[i], t);
            expected += p.Select((pi, c) => pi * Math.Log(pi / q[c])).Sum();
        }
        expected /= 2;

        using var s = tensor(student.SelectMany(r => r).Select(v => (float)v).ToArray(), [2, 3]);
        using var tp = nn.functional.softmax(tensor(teacher.SelectMany(r => r).Select(v => (float)v).ToArray(), [2, 3]) / t, 1);
        using var actual = ScanLoss.Distillation(s, tp, t);
        Assert.Equal(expected, actual.item<float>(), 5);
    }

    [Fact]
    public void Hint_is_the_squared_distance_summed_over_features_and_does_not_grow_with_batch_size()
    {
        using var f = tensor(new float[] { 1, 2, 3, 4 }, [1, 4]);
        using var g = tensor(new float[] { 0, 2, 5, 4 }, [1, 4]);
        using var one = ScanLoss.Hint(f, g);
        Assert.Equal(1 + 0 + 4 + 0, one.item<float>(), 6);

        using var f2 = cat([f, f, f], 0);
        using var g2 = cat([g, g, g], 0);
        using var three = ScanLoss.Hint(f2, g2);
        Assert.Equal(one.item<float>(), three.item<float>(), 6);
    }

    [Fact]
    public void Total_combines_every_term_with_its_weight_and_detaches_the_deepest_exit()
    {
        var options = new DistillationOptions { Temperature = 2.0, Alpha = 0.3, HintWeight = 0.5 };
        double[] shallow = [0.5, 1.5], deep = [2.0, -1.0];
        double[] fShallow = [1, 0], fDeep = [0, 2];
        int label = 1;

        var p = Softmax(deep, 2.0);
        var q = Softmax(shallow, 2.0);
        var kl = p.Select((pi, c) => pi * Math.Log(pi / q[c])).Sum();
        var hint = (1 - 0) * (1 - 0) + (0 - 2) * (0 - 2);
        var expected = Ce(deep, label) + (1 - 0.3) * Ce(shallow, label) + 0.3 * 4 * kl + 0.5 * hint;

        var deepLogits = tensor(deep.Select(v => (float)v).ToArray(), [1, 2], requires_grad: true);
        var deepFeature = tensor(fDeep.Select(v => (float)v).ToArray(), [1, 2], requires_grad: true);
        var shallowLogits = tensor(shallow.Select(v => (float)v).ToArray(), [1, 2], requires_grad: true);
        var shallowFeature = tensor(fShallow.Select(v => (float)v).ToArray(), [1, 2], requires_grad: true);
        using var labels = tensor(new long[] { label });
        using var terms = new ScanLoss(options).Compute([new ExitOutput(shallowLogits, shallowFeature), new ExitOutput(deepLogits, deepFeature)], labels);

        Assert.Equal(expected, terms.Total.item<float>(), 4);
        // Each term is reported as it enters the loss: weighted, with T² on the distillation term, adding up to the total.
        Assert.Equal(Ce(deep, label), terms.DeepCrossEntropy, 4);
        Assert.Equal((1 - 0.3) * Ce(shallow, label), terms.ShallowCrossEntropy, 4);
        Assert.Equal(0.3 * 4 * kl, terms.Distillation, 4);
        Assert.Equal(0.5 * hint, terms.Hint, 4);
        Assert.Equal(expected, terms.DeepCrossEntropy + terms.ShallowCrossEntropy + terms.Distillation + terms.Hint, 4);

        // The deepest exit learns from its labels only: its gradient is that of its own cross-entropy.
        terms.Total.backward();
        var pDeep = Softmax(deep, 1.0);
        Assert.Equal(pDeep[0], deepLogits.grad!.data<float>()[0], 4);
        Assert.Equal(pDeep[1] - 1, deepLogits.grad!.data<float>()[1], 4);
        Assert.Equal(0f, deepFeature.grad?.abs().sum().item<float>() ?? 0f);
    }

    [Fact]
    public void The_baseline_loss_is_plain_cross_entropy()
    {
        var logits = tensor(new float[] { 1, 2, 3 }, [1, 3], requires_grad: true);
        var feature = zeros(1, 2);
        using var labels = tensor(new long[] { 0 });
        using var terms = new ScanLoss(new DistillationOptions()).Compute([new ExitOutput(logits, feature)], labels);
        Assert.Equal(Ce([1, 2, 3], 0), terms.Total.item<float>(), 5);
        Assert.Equal(0, terms.Distillation);
    }
}
