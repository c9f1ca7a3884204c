using System.Diagnostics;

namespace ScanService.Launcher;

/// <summary>
/// The real service started from its built dll as a child process on free loopback ports: REST on an HTTP/1.1
/// endpoint, gRPC on an HTTP/2-only one (cleartext HTTP/2 needs its own endpoint), as tests/node-client/run.sh
/// starts it. Ready once /v2/health/ready answers 200. Stopped with SIGTERM, as an orchestrator stops it, and
/// killed only if it does not stop.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly ChildProcess _process;

    private ServiceProcess(ChildProcess process, Uri rest, Uri grpc)
    {
        _process = process;
        Rest = rest;
        Grpc = grpc;
    }

    /// <summary>The HTTP/1.1 endpoint: REST, health, metrics.</summary>
    public Uri Rest { get; }

    /// <summary>The HTTP/2-only gRPC endpoint.</summary>
    public Uri Grpc { get; }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the service wrote to stdout and stderr so far.</summary>
    public string Output => _process.Output;

    /// <summary>
    /// Starts <paramref name="serviceDll"/> and waits until it is ready.
    /// <paramref name="settings"/> are configuration keys (e.g. <c>Batching:QueueCapacity</c>) passed on the command line.
    /// <paramref name="workingDirectory"/> (default: the dll's folder) and <paramref name="passContentRoot"/> let a
    /// caller start it as a user would from another folder: without a content root, only the ports are passed and
    /// everything else (the gRPC endpoint's HTTP/2, the limits...) must come from the service's own appsettings.json.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(string serviceDll, string? bundlePath = null, IReadOnlyDictionary<string, string>? settings = null,
        TimeSpan? readyTimeout = null, string? workingDirectory = null, bool passContentRoot = true, string executionProvider = "Cpu")
    {
        if (!File.Exists(serviceDll)) throw new FileNotFoundException($"{serviceDll} not found: build src/ScanService.Api first, or pass --service");
        var (restPort, grpcPort) = LoopbackPort.FreePair();
        var contentRoot = Path.GetDirectoryName(Path.GetFullPath(serviceDll))!;
        var start = new ProcessStartInfo(DotnetHost()) { WorkingDirectory = workingDirectory ?? contentRoot };
        start.ArgumentList.Add(serviceDll);
        // Kestrel endpoints from configuration take precedence over --urls, so the ports go on the endpoints.
        start.ArgumentList.Add($"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{restPort}");
        start.ArgumentList.Add($"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{grpcPort}");
        if (passContentRoot)
        {
            start.ArgumentList.Add("--contentRoot");
            start.ArgumentList.Add(contentRoot);
            start.ArgumentList.Add("--Kestrel:Endpoints:Http:Protocols=Http1");
            start.ArgumentList.Add("--Kestrel:Endpoints:Grpc:Protocols=Http2");
        }
        if (bundlePath is not null) start.ArgumentList.Add($"--Model:BundlePath={Path.GetFullPath(bundlePath)}");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.ArgumentList.Add($"--{key}={value}");
        start.Environment["Model__ExecutionProvider"] = executionProvider;

        var process = ChildProcess.Start(start);
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{restPort}"), new Uri($"http://127.0.0.1:{grpcPort}"));
        try
        {
            await process.WaitUntilReadyAsync(new Uri(service.Rest, "/v2/health/ready"), readyTimeout ?? TimeSpan.FromSeconds(120));
            return service;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>A client of the REST endpoint; the caller disposes it.</summary>
    public HttpClient Client() => new() { BaseAddress = Rest, Timeout = TimeSpan.FromSeconds(30) };

    /// <inheritdoc cref="ChildProcess.StopAsync"/>
    public Task<int?> StopAsync(TimeSpan patience) => _process.StopAsync(patience);

    /// <inheritdoc cref="ChildProcess.TerminateAsync"/>
    public Task TerminateAsync() => _process.TerminateAsync();

    /// <inheritdoc cref="ChildProcess.WaitForExitAsync"/>
    public Task<int?> WaitForExitAsync(TimeSpan patience) => _process.WaitForExitAsync(patience);

    /// <summary>The dotnet host running the caller, so that the service runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    public void Dispose() => _process.Dispose();
}
