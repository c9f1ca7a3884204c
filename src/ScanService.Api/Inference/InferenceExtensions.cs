namespace ScanService.Api.Inference;

public static class InferenceExtensions
{
    public static IHostApplicationBuilder AddScanInference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ImageClassifier>();
        return builder;
    }
}
