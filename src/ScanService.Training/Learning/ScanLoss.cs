using ScanService.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace ScanService.Training.Learning;

/// <summary>Self-distillation settings.</summary>
public sealed record DistillationOptions
{
    /// <summary>
    /// The SCAN reference code's feature-loss coefficient, 5e-7 on a sum over the batch and the features, made
    /// per image at the reference's batch of 128: 5e-7 × 128.
    /// </summary>
    public const double ReferenceHintWeight = 5e-7 * 128;

    /// <summary>Softmax temperature of the distillation term (the reference's T = 3).</summary>
    public double Temperature { get; init; } = 3.0;
    /// <summary>Weight of distillation against cross-entropy for the shallow exits (the paper's α = 0.5).</summary>
    public double Alpha { get; init; } = 0.5;
    /// <summary>
    /// Weight λ of the feature hint: the squared distance of pooled features, summed over features and averaged over
    /// the batch. The default is the reference's effective weight per image (<see cref="ReferenceHintWeight"/>), so
    /// the scale does not change with batch size and grows with the feature count as the reference's does.
    /// </summary>
    public double HintWeight { get; init; } = ReferenceHintWeight;
}

/// <summary>
/// The terms of one step's loss as they enter it (each already multiplied by its weight, the distillation term
/// also by T²), summed over exits: <see cref="Total"/> is their sum.
/// </summary>
public sealed record LossTerms(Tensor Total, double DeepCrossEntropy, double ShallowCrossEntropy, double Distillation, double Hint) : IDisposable
{
    public void Dispose() => Total.Dispose();
}

/// <summary>
/// SCAN's loss. Deepest exit: cross-entropy. Shallow exit i:
/// (1-α)·CE(out_i, y) + α·T²·KL(softmax(out_deep/T) ‖ softmax(out_i/T)) + λ·‖f_i − f_deep‖²,
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
        double deepCe = total.item<float>(), ce = 0, kd = 0, hint = 0;
        if (exits.Count > 1)
        {
            using var teacher = deepest.Logits.detach();
            using var teacherFeature = deepest.Feature.detach();
            var t = Options.Temperature;
            using var teacherProbs = nn.functional.softmax(teacher / t, 1);
            for (var i = 0; i < exits.Count - 1; i++)
            {
                var ceI = nn.functional.cross_entropy(exits[i].Logits, labels) * (1 - Options.Alpha);
                var kdI = Distillation(exits[i].Logits, teacherProbs, t) * (Options.Alpha * t * t);
                var hintI = Hint(exits[i].Feature, teacherFeature) * Options.HintWeight;
                total = total + ceI + kdI + hintI;
                ce += ceI.item<float>();
                kd += kdI.item<float>();
                hint += hintI.item<float>();
            }
        }
        return new LossTerms(total.MoveToOuterDisposeScope(), deepCe, ce, kd, hint);
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
    /// Squared Euclidean distance between pooled features, summed over the feature dimension and averaged over the
    /// batch, so that batch size does not change its scale.
    /// </summary>
    public static Tensor Hint(Tensor feature, Tensor teacherFeature)
    {
        using var diff = feature - teacherFeature;
        using var squared = diff.square();
        using var perSample = squared.sum(1);
        return perSample.mean();
    }
}
