using System.Diagnostics;
using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;
using Xunit.Abstractions;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Grpc;

/// <summary>
/// Images per second on one channel over loopback HTTP/2: unary calls one at a time, unary calls 32 at a time,
/// and one ClassifyStream. Printed, not asserted: the numbers depend on the machine and what else runs on it.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class GrpcThroughputBenchmark(ITestOutputHelper output) : IDisposable
{
    private const int Images = 600;
    private const int Concurrency = 32;
    private readonly ScanApiFactory _factory = new ScanApiFactory().With("Grpc:MaxStreamItemsInFlight", $"{Concurrency}");

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Streaming_against_unary_throughput()
    {
        using var channel = GrpcChannel.ForAddress(_factory.StartOnKestrel());
        var client = new ClassificationService.ClassificationServiceClient(channel);
        var images = FashionMnistImages.Take(16);
        var requests = Enumerable.Range(0, Images).Select(i => Request($"{i}", images[i % images.Count])).ToArray();
        await ClassifyStreamTests.ExchangeAsync(client, requests.Take(50));

        var sequential = await Measure(async () =>
        {
            foreach (var request in requests) await client.ClassifyAsync(request);
        });
        var concurrent = await Measure(() => Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async worker =>
        {
            for (var i = worker; i < requests.Length; i += Concurrency) await client.ClassifyAsync(requests[i]);
        })));
        var streamed = await Measure(() => ClassifyStreamTests.ExchangeAsync(client, requests));

        output.WriteLine($"{Images} images, {Environment.ProcessorCount} cores, one channel over loopback HTTP/2:");
        output.WriteLine($"  unary, one call at a time:      {Images / sequential.TotalSeconds,8:F0} images/s");
        output.WriteLine($"  unary, {Concurrency} calls at a time:     {Images / concurrent.TotalSeconds,8:F0} images/s");
        output.WriteLine($"  ClassifyStream, {Concurrency} in flight:    {Images / streamed.TotalSeconds,8:F0} images/s");
    }

    private static async Task<TimeSpan> Measure(Func<Task> run)
    {
        var started = Stopwatch.GetTimestamp();
        await run();
        return Stopwatch.GetElapsedTime(started);
    }
}
