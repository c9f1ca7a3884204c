using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ScanService.Soak;

/// <summary>
/// The real service started from its built dll as a child process on free loopback ports with the CPU provider:
/// REST on an HTTP/1.1 endpoint, gRPC on an HTTP/2-only one (cleartext HTTP/2 needs its own endpoint), as
/// tests/node-client/run.sh starts it. Ready once /v2/health/ready answers 200. Stopped with SIGTERM, as an
/// orchestrator stops it, and killed only if it does not stop.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri http, Uri grpc)
    {
        _process = process;
        Http = http;
        Grpc = grpc;
    }

    public Uri Http { get; }
    public Uri Grpc { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    public static async Task<ServiceProcess> StartAsync(string serviceDll, string? bundlePath, IReadOnlyDictionary<string, string> settings, TimeSpan readyTimeout)
    {
        if (!File.Exists(serviceDll)) throw new FileNotFoundException($"{serviceDll} not found: build src/ScanService.Api first, or pass --service");
        var httpPort = FreePort();
        var grpcPort = FreePort();
        while (grpcPort == httpPort) grpcPort = FreePort();
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var contentRoot = Path.GetDirectoryName(Path.GetFullPath(serviceDll))!;
        start.ArgumentList.Add(serviceDll);
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(contentRoot);
        // Kestrel endpoints from configuration take precedence over --urls, so the ports go on the endpoints.
        start.ArgumentList.Add($"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{httpPort}");
        start.ArgumentList.Add("--Kestrel:Endpoints:Http:Protocols=Http1");
        start.ArgumentList.Add($"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{grpcPort}");
        start.ArgumentList.Add("--Kestrel:Endpoints:Grpc:Protocols=Http2");
        if (bundlePath is not null) start.ArgumentList.Add($"--Model:BundlePath={Path.GetFullPath(bundlePath)}");
        foreach (var (key, value) in settings) start.ArgumentList.Add($"--{key}={value}");
        start.Environment["Model__ExecutionProvider"] = "Cpu";
        start.WorkingDirectory = contentRoot;

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started");
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{httpPort}"), new Uri($"http://127.0.0.1:{grpcPort}"));
        process.OutputDataReceived += (_, e) => service.Log(e.Data);
        process.ErrorDataReceived += (_, e) => service.Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitUntilReadyAsync(readyTimeout);
            return service;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>What the service wrote to its console.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Http, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service exited with {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                using var response = await client.GetAsync("/v2/health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the service was not ready after {timeout.TotalSeconds:F0} s:\n{Output}");
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

    /// <summary>Sends SIGTERM (kills on Windows, which has no such signal) without waiting.</summary>
    public async Task TerminateAsync()
    {
        if (OperatingSystem.IsWindows()) _process.Kill(entireProcessTree: true);
        else await Signal.TerminateAsync(_process.Id);
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The dotnet host running this tool (or the tests that call it), so that the service runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
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

/// <summary>SIGTERM through kill(1): .NET can only kill a child process outright.</summary>
public static class Signal
{
    public static async Task TerminateAsync(int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("kill could not be started");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -s TERM {pid} exited with {kill.ExitCode}");
    }
}
