using ScanService.Core.Tests.Inference;

namespace ScanService.Core.Tests.Batching;

/// <summary>
/// One engine on the committed bundle for every batching test, warmed up so that first-run costs do not land in
/// a timed test. The batching tests share it and run one at a time: they time a few things.
/// </summary>
public sealed class BatchingEngine : IDisposable
{
    public const int Images = 64;

    public BatchingEngine()
    {
        Engine = EarlyExitEngine.Create(CommittedBundle.Load(), OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu));
        Pixels = TestImages.Normalised(Engine.Manifest.Input, Images);
        Engine.Run(Pixels, Images, Engine.Resolve(new InferenceOptions { Ensemble = true }));
    }

    public EarlyExitEngine Engine { get; }

    /// <summary>The first <see cref="Images"/> Fashion-MNIST test images, normalised.</summary>
    public float[] Pixels { get; }

    public float[] Sample(int image) => Pixels.AsSpan(image * Engine.SampleSize, Engine.SampleSize).ToArray();

    /// <summary>Images <paramref name="first"/>.. laid out as one request of <paramref name="count"/> samples.</summary>
    public float[] Samples(int first, int count) => Pixels.AsSpan(first * Engine.SampleSize, count * Engine.SampleSize).ToArray();

    /// <summary>Early exit with each exit's threshold at its median confidence on these images, so samples leave at every depth.</summary>
    public ExitPlan MedianThresholds() => EnginePlans.MedianThresholds(Engine, Pixels, Images);

    public void Dispose() => Engine.Dispose();
}

[CollectionDefinition(Name)]
public sealed class BatchingCollection : ICollectionFixture<BatchingEngine>
{
    public const string Name = "Batching";
}
