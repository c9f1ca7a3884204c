using System.Diagnostics;
using System.Text;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// The built service started as its own process, as a deployment runs it: REST on an HTTP/1.1 loopback port, gRPC
/// on an HTTP/2-only one, the CPU provider, the committed bundle unless another is given. Stopped on dispose.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServiceProcess(Process process, Uri rest, Uri grpc)
    {
        _process = process;
        Rest = rest;
        Grpc = grpc;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Rest { get; }

    /// <summary>The HTTP/2-only gRPC endpoint.</summary>
    public Uri Grpc { get; }

    /// <summary>Everything the service wrote to stdout and stderr so far.</summary>
    public string Output => Log;

    /// <summary>
    /// Starts the built service. <paramref name="workingDirectory"/> and <paramref name="passContentRoot"/> let a test
    /// start it as a user would from another folder, without telling it where its files are.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(string? bundlePath = null, IReadOnlyDictionary<string, string>? settings = null,
        string? workingDirectory = null, bool passContentRoot = true, string executionProvider = "Cpu")
    {
        // The test's output folder holds the service's build (assembly, deps, runtimeconfig, appsettings) as its reference.
        var app = Path.Combine(AppContext.BaseDirectory, "ScanService.Api.dll");
        var restPort = PrometheusServer.FreeLoopbackPort();
        var grpcPort = PrometheusServer.FreeLoopbackPort();
        List<string> arguments = passContentRoot
            ?
            [
                app, "--contentRoot", AppContext.BaseDirectory,
                $"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{restPort}", "--Kestrel:Endpoints:Http:Protocols=Http1",
                $"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{grpcPort}", "--Kestrel:Endpoints:Grpc:Protocols=Http2",
            ]
            // Only the ports: everything else (the gRPC endpoint's HTTP/2, the limits...) must come from appsettings.json.
            : [app, $"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{restPort}", $"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{grpcPort}"];
        var start = new ProcessStartInfo(DotnetHost(), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.Environment["Model__ExecutionProvider"] = executionProvider;
        start.Environment["Model__BundlePath"] = bundlePath ?? RepositoryPaths.DefaultBundle;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var service = new ServiceProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{restPort}"), new Uri($"http://127.0.0.1:{grpcPort}"));
        try
        {
            await service.WaitReadyAsync();
            return service;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    public HttpClient Client() => new() { BaseAddress = Rest, Timeout = TimeSpan.FromSeconds(30) };

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = Rest, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service exited with {_process.ExitCode}: {Log}");
            try
            {
                using var response = await http.GetAsync("/v2/health/ready");
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the service was not ready after 120 s: {Log}");
            await Task.Delay(250);
        }
    }

    /// <summary>The dotnet host running these tests, so that the service runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
