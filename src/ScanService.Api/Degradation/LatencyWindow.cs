namespace ScanService.Api.Degradation;

/// <summary>
/// The most recent measurements (milliseconds, each with the time it was taken), in a fixed ring: recording is one
/// short lock, and a percentile reads only what lies in the span asked for. When more arrive within the span than
/// the ring holds, the oldest are overwritten, so the percentile is always of the latest.
/// </summary>
public sealed class LatencyWindow(int capacity = 8192)
{
    private readonly long[] _at = new long[capacity];
    private readonly double[] _ms = new double[capacity];
    private readonly Lock _gate = new();
    private long _written;

    /// <param name="milliseconds">The measurement (+∞ for a refused request).</param>
    /// <param name="at">A <see cref="System.Diagnostics.Stopwatch"/> timestamp.</param>
    public void Record(double milliseconds, long at)
    {
        lock (_gate)
        {
            var i = (int)(_written % _at.Length);
            _at[i] = at;
            _ms[i] = milliseconds;
            _written++;
        }
    }

    /// <summary>
    /// The <paramref name="percentile"/> (0.99: p99, nearest rank) of the measurements taken at or after
    /// <paramref name="since"/>, and how many there were; NaN when there were none.
    /// </summary>
    public (double Value, int Count) Percentile(double percentile, long since)
    {
        double[] values;
        lock (_gate)
        {
            var held = (int)Math.Min(_written, _at.Length);
            values = new double[held];
            var n = 0;
            for (var j = 0; j < held; j++)
            {
                var i = (int)((_written - 1 - j) % _at.Length);
                if (_at[i] < since) continue;
                values[n++] = _ms[i];
            }
            Array.Resize(ref values, n);
        }
        if (values.Length == 0) return (double.NaN, 0);
        Array.Sort(values);
        var rank = (int)Math.Ceiling(percentile * values.Length) - 1;
        return (values[Math.Clamp(rank, 0, values.Length - 1)], values.Length);
    }
}
