using System.Diagnostics;
using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Inference;

/// <summary>The service is up but has no model to answer with (503 / UNAVAILABLE).</summary>
public sealed class ModelNotReadyException(string message) : Exception(message);

/// <summary>One answer with what the front ends report beside it.</summary>
public sealed record Classification(Prediction Prediction, LoadedModel Model, ExitPlan Plan, TimeSpan Preprocessing, TimeSpan Inference)
{
    public string Label => Model.Manifest.Labels[Prediction.ClassIndex];
    public int ExitCount => Model.Engine.ExitCount;
}

/// <summary>
/// What every front end (REST, Open Inference Protocol, gRPC) calls: decode and preprocess as the manifest
/// says, resolve the request's options, run the early-exit engine. Knows nothing of HTTP or gRPC.
/// </summary>
public sealed class ImageClassifier(ModelHost host)
{
    public LoadedModel RequireModel() =>
        host.Current ?? throw new ModelNotReadyException(host.LoadError is null ? "the model is loading" : "no model is loaded");

    /// <summary>Classifies encoded images (PNG, JPEG, BMP, WebP, GIF); answers in order.</summary>
    public async Task<Classification[]> ClassifyImagesAsync(IReadOnlyList<ReadOnlyMemory<byte>> images, InferenceOptions options, CancellationToken cancellationToken)
    {
        var model = RequireModel();
        var plan = model.Engine.Resolve(options);
        var size = model.Engine.SampleSize;
        var pixels = new float[images.Count * size];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < images.Count; i++)
            model.Preprocessor.Preprocess(images[i].Span, pixels.AsSpan(i * size, size));
        var preprocessing = Stopwatch.GetElapsedTime(started);
        return await RunAsync(model, plan, pixels, images.Count, preprocessing, cancellationToken);
    }

    /// <summary>Classifies tensors already preprocessed (N×C×H×W, normalised as the manifest says).</summary>
    public Task<Classification[]> ClassifyTensorAsync(float[] pixels, int count, InferenceOptions options, CancellationToken cancellationToken)
    {
        var model = RequireModel();
        var plan = model.Engine.Resolve(options);
        return RunAsync(model, plan, pixels, count, TimeSpan.Zero, cancellationToken);
    }

    private static async Task<Classification[]> RunAsync(LoadedModel model, ExitPlan plan, float[] pixels, int count, TimeSpan preprocessing, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // The engine is synchronous CPU work: keep it off the request thread's synchronisation context.
        var predictions = await Task.Run(() => model.Engine.Run(pixels, count, plan, cancellationToken: cancellationToken), cancellationToken);
        var inference = Stopwatch.GetElapsedTime(started);
        return predictions.Select(p => new Classification(p, model, plan, preprocessing, inference)).ToArray();
    }
}
