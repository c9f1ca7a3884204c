using System.Diagnostics;
using System.Globalization;

namespace ScanService.Api.Tests.Metrics;

/// <summary>
/// A real Prometheus (Debian's package) on a free loopback port, scraping the given targets every second with a
/// configuration this class writes to a folder of its own; stopped and removed on dispose.
/// </summary>
public sealed class PrometheusServer : IDisposable
{
    public const string NotInstalled =
        "prometheus is not installed: install the Debian package prometheus (scripts/install-test-prereqs.sh does)";

    private readonly ChildProcess _process;
    private readonly string _folder;
    private readonly HttpClient _http;

    private PrometheusServer(ChildProcess process, string folder, Uri address)
    {
        _process = process;
        _folder = folder;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>An executable of that name on the PATH, or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    public static async Task<PrometheusServer> StartAsync(params Uri[] targets)
    {
        var binary = Find("prometheus") ?? throw new InvalidOperationException(NotInstalled);
        var folder = Directory.CreateTempSubdirectory("scanservice-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: scanservice
                metrics_path: /metrics
                static_configs:
                  - targets: [{string.Join(", ", targets.Select(t => $"'{t.Authority}'"))}]
            """);
        var port = LoopbackPort.Free();
        var start = new ProcessStartInfo(binary,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ])
        {
            WorkingDirectory = folder,
        };
        var address = new Uri($"http://127.0.0.1:{port}");
        var server = new PrometheusServer(ChildProcess.Start(start), folder, address);
        try
        {
            await server._process.WaitUntilReadyAsync(new Uri(address, "/-/ready"), TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Runs an instant PromQL query; each result as its labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await _http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{promql}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var data = json.RootElement.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        return data.GetProperty("result").EnumerateArray().Select(r => (
            (IReadOnlyDictionary<string, string>)r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            double.Parse(r.GetProperty("value")[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>Queries until <paramref name="done"/> holds (the scrapes after the traffic have landed) or the time is up.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryUntilAsync(
        string promql, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = await QueryAsync(promql);
            if (done(result) || DateTime.UtcNow > deadline) return result;
            await Task.Delay(250);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the dying process: the temp folder is left for the OS to clear.
        }
    }
}

/// <summary>A test that needs Prometheus' binaries: skipped, saying why, where they are not installed.</summary>
public sealed class RequiresPrometheusFactAttribute : FactAttribute
{
    public RequiresPrometheusFactAttribute()
    {
        if (PrometheusServer.Find("prometheus") is null || PrometheusServer.Find("promtool") is null) Skip = PrometheusServer.NotInstalled;
    }
}
