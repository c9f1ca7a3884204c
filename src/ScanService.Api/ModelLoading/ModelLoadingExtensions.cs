namespace ScanService.Api.ModelLoading;

public static class ModelLoadingExtensions
{
    public static IHostApplicationBuilder AddScanModel(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ModelSlot>();
        builder.Services.AddHostedService<ModelLoader>();
        // Graceful shutdown: in-flight requests get this long to finish once SIGTERM arrives.
        builder.Services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<ModelOptions>>((host, model) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(model.Value.ShutdownTimeoutSeconds));
        return builder;
    }
}
