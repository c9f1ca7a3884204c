namespace ScanService.Api.Degradation;

/// <summary>Runs the controller's decision every interval while the service runs (only when degradation is enabled).</summary>
public sealed class DegradationLoop(DegradationController controller) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!controller.Enabled) return;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(controller.Options.IntervalMilliseconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) controller.Tick();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
