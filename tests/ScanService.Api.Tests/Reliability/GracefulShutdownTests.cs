using System.Diagnostics;
using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Reliability;

/// <summary>
/// SIGTERM, as an orchestrator stops a pod, while requests are in flight: they finish and are answered within
/// Model:ShutdownTimeoutSeconds, new connections are refused as soon as shutdown begins, and the process exits 0.
/// The requests carry real 6-megapixel images, seconds of decoding together, so they are in flight when the signal arrives.
/// </summary>
public class GracefulShutdownTests(ITestOutputHelper output)
{
    private const int ShutdownTimeoutSeconds = 20;
    // Enough decoding that the batch is still running at the signal on a quiet machine too (4 images were not).
    private const int Images = 16;

    [Fact]
    public async Task Requests_in_flight_at_SIGTERM_are_answered_and_new_ones_are_refused()
    {
        using var service = await ServiceProcess.StartAsync(ServiceUnderTest.Dll, RepositoryPaths.DefaultBundle,
            new Dictionary<string, string>
            {
                ["Model:ShutdownTimeoutSeconds"] = ShutdownTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Logging:LogLevel:Default"] = "Warning",
                ["Limits:MaxBatchRequestBodyBytes"] = (256 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
                // The requests then wait a second in the batcher for company after decoding, so they are still in
                // flight at the signal however fast the machine decodes (an idle one decoded the 16 images in 0.2 s).
                ["Batching:MaxBatchSize"] = "256",
                ["Batching:MaxDelayMilliseconds"] = "1000",
            }, TimeSpan.FromSeconds(120));
        using var http = new HttpClient { BaseAddress = service.Rest, Timeout = TimeSpan.FromSeconds(60) };
        using var channel = GrpcChannel.ForAddress(service.Grpc);
        var large = CorpusImages.LargePng(3000, 2000);
        var form = Form([.. Enumerable.Range(0, Images).Select(i => ("images", $"{i}.png", large))]);
        var batch = http.PostAsync("/v1/classify/batch?fullDepth=true", form);
        var unary = new ClassificationService.ClassificationServiceClient(channel)
            .ClassifyAsync(new ClassifyRequest { Id = "in-flight", Image = Google.Protobuf.ByteString.CopyFrom(large) }).ResponseAsync;
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(batch.IsCompleted, "the batch was answered before shutdown began");

        var signalled = Stopwatch.StartNew();
        await service.TerminateAsync();

        var refusedAfter = await NewConnectionsRefusedAsync(service.Rest, TimeSpan.FromSeconds(5));
        output.WriteLine($"new connections refused {refusedAfter.TotalMilliseconds:F0} ms after SIGTERM");
        Assert.False(batch.IsCompleted, "the batch was answered before new connections were refused");

        using var response = await batch;
        var answers = await OkJsonAsync<ScanService.Api.Rest.BatchClassifyResponse>(response);
        Assert.Equal(Images, answers.Results.Count);
        Assert.All(answers.Results, a => Assert.Equal(a.ExitCount, a.Exit));
        var answer = await unary;
        Assert.Equal("in-flight", answer.Id);
        Assert.InRange(answer.Classification.Exit, 1, answer.Classification.ExitCount);
        output.WriteLine($"in-flight requests answered {signalled.Elapsed.TotalMilliseconds:F0} ms after SIGTERM");

        var exit = await service.WaitForExitAsync(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 10));
        output.WriteLine($"process exited {signalled.Elapsed.TotalMilliseconds:F0} ms after SIGTERM with {exit}");
        Assert.Equal(0, exit);
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(ShutdownTimeoutSeconds), $"shutdown took {signalled.Elapsed}");
    }

    /// <summary>How long after the signal a new connection was first refused; fails if it never is within <paramref name="patience"/>.</summary>
    private static async Task<TimeSpan> NewConnectionsRefusedAsync(Uri address, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < patience)
        {
            // A new client each time: a fresh connection, not one kept alive from before.
            using var fresh = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
            try
            {
                using var live = await fresh.GetAsync("/v2/health/live");
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }
            catch (HttpRequestException)
            {
                return clock.Elapsed;
            }
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"new connections were still accepted {patience.TotalSeconds} s after SIGTERM");
    }
}
