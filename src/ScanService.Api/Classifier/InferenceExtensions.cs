using Microsoft.Extensions.Options;
using ScanService.Api.Serving;
using ScanService.Core.Batching;

namespace ScanService.Api.Classifier;

public static class InferenceExtensions
{
    /// <summary>Configuration section of <see cref="BatchingOptions"/>.</summary>
    public const string BatchingSection = "Batching";

    public static IHostApplicationBuilder AddScanInference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BatchingOptions>().BindConfiguration(BatchingSection).ValidateDataAnnotations().ValidateOnStart();
        // The limits every front end applies.
        builder.Services.AddOptions<ServingLimits>().BindConfiguration(ServingLimits.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServingLimits>, ServingLimitsValidation>();
        builder.Services.AddSingleton<IPostConfigureOptions<ServingLimits>, ServingLimitsFromQueue>();
        builder.Services.AddSingleton<ImageClassifier>();
        return builder;
    }
}
