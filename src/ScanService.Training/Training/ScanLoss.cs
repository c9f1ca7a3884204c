using ScanService.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Training;

/// <summary>Self-distillation settings; the defaults are the reference code's.</summary>
public sealed record DistillationOptions
{
    /// <summary>Softmax temperature of the distillation term.</summary>
    public double Temperature { get; init; } = 3.0;
    /// <summary>Weight of distillation against cross-entropy for the shallow exits.</summary>
    public double Alpha { get; init; } = 0.5;
    /// <summary>Weight of the feature hint: the mean squared difference of pooled features (over batch and features).</summary>
    public double HintWeight { get; init; } = 0.1;
}

/// <summary>The terms of one step's loss, kept apart so progress can show them.</summary>
public sealed record LossTerms(Tensor Total, double CrossEntropy, double Distillation, double Hint) : IDisposable
{
    public void Dispose() => Total.Dispose();
}

/// <summary>
/// SCAN's loss. Deepest exit: cross-entropy. Shallow exit i:
/// (1-α)·CE(out_i, y) + α·T²·KL(softmax(out_deep/T) ‖ softmax(out_i/T)) + λ·mean((f_i − f_deep)²),
/// with the deepest exit's logits and feature detached. Every term is a mean over the batch, so the scale
/// does not depend on batch size.
/// </summary>
public sealed class ScanLoss(DistillationOptions options)
{
    public DistillationOptions Options { get; } = options;

    public LossTerms Compute(IReadOnlyList<ExitOutput> exits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var deepest = exits[^1];
        var total = nn.functional.cross_entropy(deepest.Logits, labels);
        double ce = total.item<float>(), kd = 0, hint = 0;
        if (exits.Count > 1)
        {
            using var teacher = deepest.Logits.detach();
            using var teacherFeature = deepest.Feature.detach();
            var t = Options.Temperature;
            using var teacherProbs = nn.functional.softmax(teacher / t, 1);
            for (var i = 0; i < exits.Count - 1; i++)
            {
                var ceI = nn.functional.cross_entropy(exits[i].Logits, labels);
                var kdI = Distillation(exits[i].Logits, teacherProbs, t);
                var hintI = Hint(exits[i].Feature, teacherFeature);
                total = total + ceI * (1 - Options.Alpha) + kdI * (Options.Alpha * t * t) + hintI * Options.HintWeight;
                ce += ceI.item<float>();
                kd += kdI.item<float>();
                hint += hintI.item<float>();
            }
        }
        return new LossTerms(total.MoveToOuterDisposeScope(), ce, kd, hint);
    }

    /// <summary>KL(teacher ‖ student) at temperature T, summed over classes and averaged over the batch.</summary>
    public static Tensor Distillation(Tensor studentLogits, Tensor teacherProbs, double temperature)
    {
        using var logStudent = nn.functional.log_softmax(studentLogits / temperature, 1);
        using var logTeacher = teacherProbs.clamp_min(1e-12).log();
        using var perClass = teacherProbs * (logTeacher - logStudent);
        return perClass.sum(1).mean();
    }

    /// <summary>
    /// Mean squared difference between pooled features, averaged over the batch and the feature dimension, so
    /// that neither batch size nor network width changes its scale.
    /// </summary>
    public static Tensor Hint(Tensor feature, Tensor teacherFeature)
    {
        using var diff = feature - teacherFeature;
        using var squared = diff.square();
        return squared.mean();
    }
}
