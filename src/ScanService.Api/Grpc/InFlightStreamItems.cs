namespace ScanService.Api.Grpc;

/// <summary>
/// Counts ClassifyStream items over all calls: those being classified right now (what the read-ahead bound caps
/// and a cancelled call must bring back to zero) and those abandoned because their call ended first.
/// </summary>
internal sealed class InFlightStreamItems
{
    private int _count;
    private int _peak;
    private long _abandoned;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The most items in flight at once since the process started.</summary>
    public int Peak => Volatile.Read(ref _peak);

    /// <summary>Items whose work stopped unfinished because their call was cancelled or failed.</summary>
    public long Abandoned => Interlocked.Read(ref _abandoned);

    public void Enter()
    {
        var count = Interlocked.Increment(ref _count);
        int peak;
        while (count > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, count, peak) != peak)
        {
        }
    }

    public void Exit() => Interlocked.Decrement(ref _count);

    public void Abandon() => Interlocked.Increment(ref _abandoned);
}
