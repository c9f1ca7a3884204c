using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>Records what the batcher in front of the engine does: queue depth and wait, batch sizes, refusals.</summary>
public sealed class ServingMetricsObserver(ScanMetrics metrics) : IServingObserver
{
    public void QueueDepthChanged(int depth) => metrics.SetQueueDepth(depth);

    public void BatchFormed(int stage, int size) => metrics.RecordBatch(stage, size);

    public void QueueWaited(TimeSpan wait) => metrics.RecordQueueWait(wait);

    public void Rejected() => metrics.RecordRejected();
}
