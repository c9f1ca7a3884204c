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
    public static RequestOptions Create(string? operatingPoint = null, int? maxExit = null, bool fullDepth = false, bool ensemble = false, int? topK = null)
    {
        if (topK is < 1)
            throw new InvalidInferenceOptionsException($"topK must be at least 1, got {topK}; leave it out for {DefaultTopK}");
        return new RequestOptions(
            new InferenceOptions { OperatingPoint = string.IsNullOrEmpty(operatingPoint) ? null : operatingPoint, MaxExit = maxExit, FullDepth = fullDepth, Ensemble = ensemble },
            topK ?? DefaultTopK);
    }
}
