using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ScanService.Benchmarks;

/// <summary>
/// The real service, started from its built dll as a child process on free loopback ports with the CPU provider:
/// REST on an HTTP/1.1 endpoint and gRPC on an HTTP/2-only one (cleartext HTTP/2 needs its own endpoint), as
/// tests/node-client/run.sh starts it. Ready once /v2/health/ready answers 200; killed on dispose.
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

    public static async Task<ServiceProcess> StartAsync(string serviceDll, IReadOnlyDictionary<string, string> settings, TimeSpan readyTimeout)
    {
        if (!File.Exists(serviceDll)) throw new FileNotFoundException($"{serviceDll} not found: build src/ScanService.Api first, or pass --service");
        var httpPort = FreePort();
        var grpcPort = FreePort();
        while (grpcPort == httpPort) grpcPort = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(serviceDll);
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(Path.GetDirectoryName(Path.GetFullPath(serviceDll))!);
        // Kestrel endpoints from configuration take precedence over --urls, so the ports go on the endpoints.
        start.ArgumentList.Add($"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{httpPort}");
        start.ArgumentList.Add($"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{grpcPort}");
        start.ArgumentList.Add("--Kestrel:Endpoints:Grpc:Protocols=Http2");
        foreach (var (key, value) in settings) start.ArgumentList.Add($"--{key}={value}");
        start.Environment["Model__ExecutionProvider"] = "Cpu";

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

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
