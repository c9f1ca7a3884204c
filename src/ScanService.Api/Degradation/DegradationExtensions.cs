using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Degradation;

public static class DegradationExtensions
{
    /// <summary>Graceful degradation under overload (section "Degradation"; off unless enabled).</summary>
    public static IHostApplicationBuilder AddScanDegradation(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DegradationOptions>().BindConfiguration(DegradationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DegradationController>();
        services.AddSingleton<IModelObserver>(sp => sp.GetRequiredService<DegradationController>());
        // Queue waits and refusals come from the batcher, which reports to serving observers.
        services.AddSingleton<IServingObserver, BatcherSignals>();
        services.AddHostedService<DegradationLoop>();
        return builder;
    }
}

/// <summary>Feeds the batcher's queue waits (when they are the signal) and its refusals (always) to the controller.</summary>
internal sealed class BatcherSignals(DegradationController controller) : IServingObserver
{
    private readonly bool _listening = controller.Enabled && controller.Options.Signal == DegradationSignal.QueueWait;

    public void QueueWaited(TimeSpan wait)
    {
        if (_listening) controller.Record(wait);
    }

    public void QueueDepthChanged(int depth)
    {
    }

    public void BatchFormed(int stage, int size)
    {
    }

    public void Rejected() => controller.RecordRefusal();
}
