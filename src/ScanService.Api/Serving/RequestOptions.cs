using ScanService.Core.Inference;

namespace ScanService.Api.Serving;

/// <summary>
/// What a caller may ask of one classification, with one meaning on every front end. Absent options take the
/// defaults below; what only the loaded model can judge (the operating point's name, maxExit's range, options that
/// conflict) the engine judges, with the same message everywhere.
/// </summary>
/// <param name="Inference">The engine's options.</param>
/// <param name="TopK">How many of the most probable classes an answer lists.</param>
public sealed record RequestOptions(InferenceOptions Inference, int TopK)
{
    /// <summary>Classes listed when the caller does not say: on every front end.</summary>
    public const int DefaultTopK = 5;

    public static readonly RequestOptions Default = new(InferenceOptions.Default, DefaultTopK);

    /// <summary>
    /// Builds the options from what a request carried; null means "not sent". An empty operating point means the
    /// model's default, as an absent one does (gRPC cannot tell the two apart). topK below 1 is refused; above the
    /// number of classes it lists them all.
    /// </summary>
    /// <param name="operatingPoint">A named point or a point of the front; null or empty for the model's default.</param>
    /// <param name="maxExit">Deepest exit allowed; null for none.</param>
    /// <param name="fullDepth">No early exit.</param>
    /// <param name="ensemble">The mean of every allowed exit's logits.</param>
    /// <param name="topK">Classes listed; null for <see cref="DefaultTopK"/>.</param>
    /// <param name="degrade">
    /// False keeps a request that names no operating point at the default one under overload (graceful degradation
    /// serves the others from cheaper points); absent means true.
    /// </param>
    public static RequestOptions Create(string? operatingPoint = null, int? maxExit = null, bool fullDepth = false, bool ensemble = false, int? topK = null, bool? degrade = null)
    {
        if (topK is < 1)
            throw new InvalidInferenceOptionsException($"topK must be at least 1, got {topK}; leave it out for {DefaultTopK}");
        return new RequestOptions(
            new InferenceOptions { OperatingPoint = string.IsNullOrEmpty(operatingPoint) ? null : operatingPoint, MaxExit = maxExit, FullDepth = fullDepth, Ensemble = ensemble, AllowDegradation = degrade ?? true },
            topK ?? DefaultTopK);
    }
}
