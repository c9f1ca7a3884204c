using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace ScanService.Api.Tests.Reliability;

/// <summary>Every log entry the app writes, kept for assertions.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log._entries.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}

/// <summary>The service with its log captured.</summary>
public sealed class LoggedScanApiFactory : ScanApiFactory
{
    public CapturedLog Log { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Log));
    }
}

/// <summary>
/// A bundle that is missing or corrupt at start: the process stays up and live, is not ready on REST or gRPC health,
/// refuses inference with 503, and says in one error log line where the bundle was and why it was refused.
/// </summary>
public sealed class StartupFaultTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "scan-startup-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A copy of the committed bundle, damaged as <paramref name="fault"/> says; the reason the log must give.</summary>
    private (string Path, string Reason) Bundle(string fault)
    {
        var bundle = Path.Combine(_folder, "bundle");
        if (fault == "missing folder") return (bundle, "no manifest.json");
        Directory.CreateDirectory(bundle);
        if (fault == "empty folder") return (bundle, "no manifest.json");
        foreach (var file in Directory.GetFiles(RepositoryPaths.DefaultBundle)) File.Copy(file, Path.Combine(bundle, Path.GetFileName(file)));
        var manifest = Path.Combine(bundle, "manifest.json");
        var stage = Path.Combine(bundle, "stage2.onnx");
        switch (fault)
        {
            case "manifest that is not JSON":
                File.WriteAllText(manifest, "{ \"schemaVersion\": 1, \"model\": ");
                return (bundle, "the manifest is not valid");
            case "manifest missing required fields":
                File.WriteAllText(manifest, "{ \"schemaVersion\": 1 }");
                return (bundle, "the manifest is not valid");
            case "graph cut short":
                File.WriteAllBytes(stage, File.ReadAllBytes(stage)[..100]);
                return (bundle, "stage2.onnx' has SHA-256");
            case "graph file missing":
                File.Delete(stage);
                return (bundle, "stage2.onnx' named in the manifest is missing");
            case "garbage graph with a matching checksum":
                // Past the checksum: the file is what the manifest says, but no ONNX graph.
                var garbage = new byte[4096];
                new Random(3).NextBytes(garbage);
                File.WriteAllBytes(stage, garbage);
                var json = JsonNode.Parse(File.ReadAllText(manifest))!;
                json["files"]!["stage2.onnx"] = Convert.ToHexStringLower(SHA256.HashData(garbage));
                File.WriteAllText(manifest, json.ToJsonString());
                return (bundle, "stage2.onnx' cannot be loaded by ONNX Runtime");
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    [Theory]
    [InlineData("missing folder")]
    [InlineData("empty folder")]
    [InlineData("manifest that is not JSON")]
    [InlineData("manifest missing required fields")]
    [InlineData("graph cut short")]
    [InlineData("graph file missing")]
    [InlineData("garbage graph with a matching checksum")]
    public async Task A_bad_bundle_at_start_leaves_the_service_live_not_ready_and_says_why_in_the_log(string fault)
    {
        var (bundle, reason) = Bundle(fault);
        using var factory = new LoggedScanApiFactory();
        factory.With("Model:BundlePath", bundle);
        using var client = factory.CreateClient();

        using (var live = await client.GetAsync("/v2/health/live")) Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using (var ready = await client.GetAsync("/v2/health/ready")) await AssertProtocolErrorAsync(ready, HttpStatusCode.ServiceUnavailable);
        using (var classify = await client.PostAsync("/v1/classify", Raw(CorpusImages.GreyPng(0), "image/png")))
        {
            var problem = await AssertProblemAsync(classify, HttpStatusCode.ServiceUnavailable);
            Assert.DoesNotContain(_folder, problem.GetRawText(), StringComparison.Ordinal);
        }
        using var channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, health.Status);

        var line = Assert.Single(factory.Log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("could not be loaded; the service is not ready", StringComparison.Ordinal));
        Assert.Contains(bundle, line.Message, StringComparison.Ordinal);
        Assert.Contains(reason, line.Message, StringComparison.Ordinal);
    }
}
