using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace ScanService.Launcher;

/// <summary>
/// A program started as a child process with everything it writes kept, ready once an HTTP probe answers 200,
/// stopped with SIGTERM as an orchestrator stops it, and killed (with its own children) on dispose if still running.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Starts <paramref name="start"/> with both output streams captured.</summary>
    public static ChildProcess Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} could not be started"));
    }

    /// <summary>Polls <paramref name="probe"/> until it answers 200; throws, with the process' output, if it exits or the time runs out first.</summary>
    public async Task WaitUntilReadyAsync(Uri probe, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var name = Path.GetFileName(_process.StartInfo.FileName);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // the last lines it wrote: once exited, this returns when both pipes are drained
                throw new InvalidOperationException($"{name} exited with {_process.ExitCode} before it was ready:\n{Output}");
            }
            try
            {
                using var response = await client.GetAsync(probe);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{name} was not ready after {timeout.TotalSeconds:F0} s ({probe}):\n{Output}");
            await Task.Delay(250);
        }
    }

    /// <summary>Sends SIGTERM and waits for the process to end; its exit code, or null if it had to be killed.</summary>
    public async Task<int?> StopAsync(TimeSpan patience)
    {
        if (_process.HasExited) return _process.ExitCode;
        await TerminateAsync();
        if (await WaitForExitAsync(patience) is { } code) return code;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        return null;
    }

    /// <summary>Sends SIGTERM without waiting (kills on Windows, which has no such signal): .NET itself can only kill a child outright.</summary>
    public async Task TerminateAsync()
    {
        if (OperatingSystem.IsWindows())
        {
            _process.Kill(entireProcessTree: true);
            return;
        }
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("kill could not be started");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -s TERM {_process.Id} exited with {kill.ExitCode}");
    }

    /// <summary>The exit code once the process has ended, or null if it is still running after <paramref name="patience"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan patience)
    {
        using var wait = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }
}
