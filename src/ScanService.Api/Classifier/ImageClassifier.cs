using System.Diagnostics;
using ScanService.Api.Degradation;
using ScanService.Api.ModelLoading;
using ScanService.Core.Diagnostics;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.Classifier;

/// <summary>The service is up but has no model to answer with (503 / UNAVAILABLE).</summary>
public sealed class ModelNotReadyException(string message) : Exception(message);

/// <summary>An encoded image and what its sender calls it (a form part, a tensor element), for error messages.</summary>
public sealed record EncodedImage(ReadOnlyMemory<byte> Data, string Name);

/// <summary>One image of a batch cannot be decoded: which one (0-based, and by name) and why.</summary>
public sealed class ImageInBatchException(int index, string name, ImageDecodeException inner)
    : Exception($"Image {index} ({name}): {inner.Message}", inner)
{
    public int Index => index;
    public string Name => name;
    public ImageDecodeError Error => inner.Error;
}

/// <summary>One answer with what the front ends report beside it.</summary>
public sealed record Classification(Prediction Prediction, LoadedModel Model, ExitPlan Plan, TimeSpan Preprocessing, TimeSpan Inference)
{
    public string Label => Model.Manifest.Labels[Prediction.ClassIndex];
    /// <summary>Served at a cheaper point than the request would get unloaded (graceful degradation).</summary>
    public bool Degraded => Plan.Degraded;
    public int ExitCount => Model.Engine.ExitCount;
}

/// <summary>
/// What every front end (REST, Open Inference Protocol, gRPC) calls: decode and preprocess as the manifest
/// says, resolve the request's options, run the early-exit engine through the model's dynamic batcher (or on its
/// own when batching is off). Each request holds a lease on one model from start to answer, so a reload never
/// changes the model under it. Knows nothing of HTTP or gRPC.
/// </summary>
public sealed class ImageClassifier(ModelSlot models, IEnumerable<IClassificationObserver> observers, IEnumerable<IInferenceObserver> inferenceObservers,
    DegradationController degradation)
{
    private readonly bool _measureLatency = degradation.Enabled && degradation.Options.Signal == DegradationSignal.Latency;
    private readonly IClassificationObserver[] _observers = observers.ToArray();
    private readonly IInferenceObserver? _inferenceObserver = InferenceObservers.Combine(inferenceObservers);

    /// <summary>The model answering now (for what a request is checked against before it runs); requests lease their own.</summary>
    public LoadedModel RequireModel() =>
        models.Current ?? throw new ModelNotReadyException(models.LoadError is null ? "the model is loading" : "no model is loaded");

    /// <summary>Classifies encoded images (PNG, JPEG, BMP, WebP, GIF); answers in order.</summary>
    public Task<Classification[]> ClassifyImagesAsync(IReadOnlyList<ReadOnlyMemory<byte>> images, InferenceOptions options, CancellationToken cancellationToken) =>
        ClassifyEncodedAsync(images.Count, i => images[i], nameOf: null, options, cancellationToken);

    /// <summary>
    /// Classifies a batch of encoded images; answers in order. An image that cannot be decoded fails the batch
    /// with an <see cref="ImageInBatchException"/> that says which one, so the sender can fix that one image.
    /// </summary>
    public Task<Classification[]> ClassifyBatchAsync(IReadOnlyList<EncodedImage> images, InferenceOptions options, CancellationToken cancellationToken) =>
        ClassifyEncodedAsync(images.Count, i => images[i].Data, i => images[i].Name, options, cancellationToken);

    private async Task<Classification[]> ClassifyEncodedAsync(int count, Func<int, ReadOnlyMemory<byte>> imageAt, Func<int, string>? nameOf, InferenceOptions options, CancellationToken cancellationToken)
    {
        using var lease = models.Lease();
        var model = lease.Model;
        var plan = Plan(model, options);
        var size = model.Engine.SampleSize;
        var pixels = new float[count * size];
        var started = Stopwatch.GetTimestamp();
        using (var decode = ScanActivities.Source.StartActivity(ScanActivities.Decode))
        {
            decode?.SetTag("scan.images", count);
            for (var i = 0; i < count; i++)
            {
                // A caller that left (a cancelled stream item, a closed connection) gets no more work done for it.
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    model.Preprocessor.Preprocess(imageAt(i).Span, pixels.AsSpan(i * size, size));
                }
                catch (ImageDecodeException e) when (nameOf is not null)
                {
                    throw new ImageInBatchException(i, nameOf(i), e);
                }
            }
        }
        return await RunAsync(model, plan, pixels, count, started, Stopwatch.GetElapsedTime(started), cancellationToken);
    }

    /// <summary>The request's options resolved against the model, at the point graceful degradation serves it at.</summary>
    private ExitPlan Plan(LoadedModel model, InferenceOptions options)
    {
        var (effective, degraded) = degradation.Apply(model, options);
        return model.Engine.Resolve(effective) with { Degraded = degraded };
    }

    /// <summary>
    /// Classifies tensors already preprocessed (N×C×H×W, normalised as the manifest says). <paramref name="sampleSize"/>
    /// is what the tensor was checked against; a model of another input size that replaced it meanwhile refuses it.
    /// </summary>
    public async Task<Classification[]> ClassifyTensorAsync(float[] pixels, int count, int sampleSize, InferenceOptions options, CancellationToken cancellationToken)
    {
        using var lease = models.Lease();
        var model = lease.Model;
        if (model.Engine.SampleSize != sampleSize) throw new ModelNotReadyException("the model was replaced while the request was read; send it again");
        return await RunAsync(model, Plan(model, options), pixels, count, Stopwatch.GetTimestamp(), TimeSpan.Zero, cancellationToken);
    }

    /// <summary>
    /// Runs the plan through the batcher (or the engine alone) and tells the observers; <paramref name="received"/> is
    /// when the request's work began (before decoding, if it had images), where graceful degradation's latency runs from.
    /// </summary>
    private async Task<Classification[]> RunAsync(LoadedModel model, ExitPlan plan, float[] pixels, int count, long received, TimeSpan preprocessing, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var predictions = model.Batcher is { } batcher
            ? await batcher.ClassifyAsync(pixels.AsMemory(0, count * model.Engine.SampleSize), count, plan, cancellationToken)
            // The engine is synchronous CPU work: keep it off the request thread's synchronisation context.
            : await Task.Run(() => model.Engine.Run(pixels, count, plan, Traced(_inferenceObserver), cancellationToken), cancellationToken);
        var inference = Stopwatch.GetElapsedTime(started);
        // Answers nobody will read are not counted as answers (exit metrics, agreement sampling).
        cancellationToken.ThrowIfCancellationRequested();
        Notify(model, plan, pixels, predictions);
        if (_measureLatency) degradation.Record(Stopwatch.GetElapsedTime(received));
        return predictions.Select(p => new Classification(p, model, plan, preprocessing, inference)).ToArray();
    }

    /// <summary>The observers of a serial run, with spans for its stages and heads when tracing listens.</summary>
    private static IInferenceObserver? Traced(IInferenceObserver? observer)
    {
        var trace = ScanActivities.CurrentContext();
        if (!ScanActivities.Source.HasListeners() || trace == default) return observer;
        var spans = new RequestStageSpans(trace);
        return observer is null ? spans : InferenceObservers.Combine([observer, spans]);
    }

    private void Notify(LoadedModel model, ExitPlan plan, float[] pixels, Prediction[] predictions)
    {
        if (_observers.Length == 0) return;
        var size = model.Engine.SampleSize;
        for (var i = 0; i < predictions.Length; i++)
        {
            var sample = new ReadOnlyMemory<float>(pixels, i * size, size);
            foreach (var observer in _observers) observer.Answered(model, plan, sample, predictions[i]);
        }
    }
}
