namespace ScanService.Api.ModelLoading;

public static class ModelLoadingExtensions
{
    public static IHostApplicationBuilder AddScanModel(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService<ModelLoader>();
        return builder;
    }
}
