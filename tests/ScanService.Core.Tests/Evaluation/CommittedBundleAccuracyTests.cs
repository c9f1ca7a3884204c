using ScanService.Core.Evaluation;
using ScanService.Core.Tests.Inference;

namespace ScanService.Core.Tests.Evaluation;

/// <summary>
/// The committed bundle reproduces, through the service's engine, the test-set figures its manifest records
/// (written there by `scan-train evaluate --bundle --record`): all 10,000 Fashion-MNIST test images.
/// </summary>
public sealed class CommittedBundleAccuracyTests
{
    // Another CPU may pick other ONNX Runtime kernels; a sample sitting exactly on a threshold could then
    // leave one exit earlier or later. Five images in 10,000 covers that and nothing more.
    private const double Tolerance = 0.0005;

    [Fact]
    public void Every_operating_point_exit_and_the_ensemble_reproduce_the_recorded_test_accuracy()
    {
        var bundle = CommittedBundle.Load();
        var manifest = bundle.Manifest;
        Assert.NotNull(manifest.Training?.TestAccuracyPerExit);
        Assert.NotEmpty(manifest.OperatingPoints);
        Assert.All(manifest.OperatingPoints, p => Assert.NotNull(p.TestAccuracy));

        using var engine = EarlyExitEngine.Create(bundle, OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu));
        const int count = 10_000;
        var report = BundleEvaluator.Evaluate(engine, TestImages.Normalised(manifest.Input, count), TestImages.Labels(count));

        foreach (var point in manifest.OperatingPoints)
        {
            var row = report.Find(point.Name)!;
            Assert.InRange(row.Accuracy, point.TestAccuracy!.Value - Tolerance, point.TestAccuracy.Value + Tolerance);
            Assert.InRange(row.RelativeCost, point.TestRelativeCost!.Value - 0.005, point.TestRelativeCost.Value + 0.005);
        }
        for (var k = 0; k < engine.ExitCount; k++)
        {
            var recorded = manifest.Training!.TestAccuracyPerExit![k];
            Assert.InRange(report.Find($"exit-{k + 1}")!.Accuracy, recorded - Tolerance, recorded + Tolerance);
        }
        Assert.InRange(report.Find("ensemble")!.Accuracy, manifest.Training!.EnsembleTestAccuracy!.Value - Tolerance, manifest.Training.EnsembleTestAccuracy.Value + Tolerance);
    }
}
