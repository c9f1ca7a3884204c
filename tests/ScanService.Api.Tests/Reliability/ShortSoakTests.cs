extern alias soak;
using soak::ScanService.Soak;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Reliability;

/// <summary>
/// The soak tool's own code, short: the built service started as a process, reference answers without load, then
/// concurrent REST and gRPC clients (unary and streams) with mixed options. The full 60 s, 64-client run and its
/// figures are in docs/RELIABILITY.md.
/// </summary>
public class ShortSoakTests(ITestOutputHelper output)
{
    private static SoakSettings Settings(TimeSpan duration, params (string Key, string Value)[] service) => new()
    {
        ServiceDll = Path.Combine(AppContext.BaseDirectory, "ScanService.Api.dll"),
        BundlePath = RepositoryPaths.DefaultBundle,
        ServiceSettings = service.Append((Key: "Logging:LogLevel:Default", Value: "Warning")).ToDictionary(s => s.Key, s => s.Value),
        Duration = duration,
        Clients = 16,
        Images = 16,
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Sixteen_clients_for_five_seconds_get_their_reference_answers_and_the_service_stops_cleanly()
    {
        var report = await SoakRunner.RunAsync(Settings(TimeSpan.FromSeconds(5)), output.WriteLine);
        output.WriteLine(report.Format());

        Assert.True(report.Passed, report.Format());
        Assert.Equal(0, report.Total.Wrong);
        Assert.Equal(0, report.Total.Errors);
        Assert.Equal(6, report.Routes.Count); // REST /v1 multipart and raw, /v2 infer; gRPC Classify, ClassifyStream, ModelInfer
        Assert.All(report.Routes, r => Assert.True(r.Answered > 0, $"{r.Route} got no answer"));
        Assert.NotNull(report.WorkingSetPeak);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task A_saturated_service_refuses_with_429_and_RESOURCE_EXHAUSTED_and_answers_the_rest_correctly()
    {
        // Four samples at most in the batcher, sixteen clients: most requests find it full.
        var report = await SoakRunner.RunAsync(Settings(TimeSpan.FromSeconds(4), ("Batching:QueueCapacity", "4")), output.WriteLine);
        output.WriteLine(report.Format());

        Assert.True(report.Passed, report.Format());
        Assert.True(report.Total.Refused > 0, "the queue never refused: the test did not saturate the service");
        Assert.Contains(report.Routes, r => r.Route.StartsWith("REST", StringComparison.Ordinal) && r.Refused > 0);
        Assert.Contains(report.Routes, r => r.Route.StartsWith("gRPC", StringComparison.Ordinal) && r.Refused > 0);
        Assert.True(report.Total.Answered > 0);
    }
}
