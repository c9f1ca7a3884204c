using System.Diagnostics;
using System.Globalization;

namespace ScanService.Soak;

/// <summary>One reading of the service's resident memory.</summary>
/// <param name="Seconds">Since the soak started.</param>
/// <param name="Bytes">VmRSS.</param>
public readonly record struct WorkingSetSample(double Seconds, long Bytes);

/// <summary>
/// Reads a process's resident set (VmRSS in /proc/&lt;pid&gt;/status) once a second while the soak runs: a service that
/// leaks per request shows a working set that keeps climbing instead of levelling off.
/// </summary>
public sealed class WorkingSetSampler(int pid) : IAsyncDisposable
{
    private readonly List<WorkingSetSample> _samples = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private Task? _sampling;

    public IReadOnlyList<WorkingSetSample> Samples
    {
        get
        {
            lock (_samples) return [.. _samples];
        }
    }

    /// <summary>Resident bytes of <paramref name="pid"/> now, or null when it cannot be read (the process ended, or no /proc).</summary>
    public static long? Read(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kilobytes = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>Takes one sample now (outside the periodic ones: before and after the load).</summary>
    public WorkingSetSample? SampleNow()
    {
        if (Read(pid) is not { } bytes) return null;
        var sample = new WorkingSetSample(_clock.Elapsed.TotalSeconds, bytes);
        lock (_samples) _samples.Add(sample);
        return sample;
    }

    public void Start() => _sampling = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) SampleNow();
        }
        catch (OperationCanceledException)
        {
        }
    });

    /// <summary>Ends the periodic samples; <see cref="SampleNow"/> still reads.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        if (_sampling is not null) await _sampling;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
