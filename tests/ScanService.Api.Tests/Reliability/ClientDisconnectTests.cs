using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Classifier;
using ScanService.Core.Batching;

namespace ScanService.Api.Tests.Reliability;

/// <summary>
/// Real Kestrel whose batcher holds every sample for a second, the longest MaxDelayMilliseconds allows (a batch waits
/// for company up to 4096 samples), so that a request is still queued when its client goes away.
/// </summary>
public sealed class HeldBatchFactory : LoopbackScanApiFactory
{
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(1);

    public HeldBatchFactory()
    {
        With("Batching:MaxDelayMilliseconds", Hold.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        With("Batching:MaxBatchSize", "4096");
    }
}

/// <summary>
/// A client that disconnects mid-request frees its work: the batcher drops the request's samples before they run
/// (DynamicBatcher.DroppedSamples), its queue empties long before the held batch would have run, and the service
/// goes on answering. Each test owns its service, so that drop counts start from a batcher of its own.
/// </summary>
public sealed class ClientDisconnectTests : IDisposable
{
    private const int Images = 64;
    private readonly HeldBatchFactory factory = new();

    public void Dispose() => factory.Dispose();

    private DynamicBatcher Batcher()
    {
        factory.StartServer();
        var model = factory.Services.GetRequiredService<ModelSlot>().Current!;
        return model.Batcher ?? throw new InvalidOperationException("no batcher");
    }

    /// <summary>Waits until <paramref name="pending"/> samples are queued, runs <paramref name="leave"/>, and checks that all of them are dropped in good time.</summary>
    private async Task AssertDroppedAsync(DynamicBatcher batcher, int pending, Func<Task> leave)
    {
        var dropped = batcher.DroppedSamples;
        await WaitUntilAsync(() => batcher.Pending == pending, TimeSpan.FromSeconds(30), "the request never reached the batcher");
        var left = Stopwatch.StartNew();
        await leave();
        // The held batch would run a second after it was queued; dropped work leaves the queue as soon as the server hears.
        await WaitUntilAsync(() => batcher.DroppedSamples == dropped + pending, HeldBatchFactory.Hold,
            () => $"the abandoned samples were not dropped (dropped {batcher.DroppedSamples - dropped} of {pending}, {batcher.Pending} pending)");
        Assert.Equal(0, batcher.Pending);
        Assert.True(left.Elapsed < HeldBatchFactory.Hold, $"dropped only after {left.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_REST_client_that_aborts_a_large_batch_frees_every_queued_sample()
    {
        var batcher = Batcher();
        using var http = new HttpClient { BaseAddress = factory.Rest };
        using var abort = new CancellationTokenSource();
        var form = Form([.. Enumerable.Range(0, Images).Select(i => ("images", $"{i}.png", CorpusImages.GreyPng(i % 32)))]);
        var sending = http.PostAsync("/v1/classify/batch?fullDepth=true", form, abort.Token);

        await AssertDroppedAsync(batcher, Images, async () =>
        {
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        });

        Assert.InRange((await http.ClassifyAsync(CorpusImages.GreyPng(0))).Exit, 1, 4);
    }

    [Fact]
    public async Task A_gRPC_call_past_its_deadline_frees_its_sample_and_ends_with_DEADLINE_EXCEEDED()
    {
        var batcher = Batcher();
        using var channel = GrpcChannel.ForAddress(factory.Grpc);
        var client = new ClassificationService.ClassificationServiceClient(channel);
        var dropped = batcher.DroppedSamples;

        // The deadline passes while the sample is held: the server's own deadline cancels the call's work.
        var error = await Assert.ThrowsAsync<RpcException>(() => client.ClassifyAsync(
            new ClassifyRequest { Id = "late", Image = Google.Protobuf.ByteString.CopyFrom(CorpusImages.GreyPng(0)) },
            deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await WaitUntilAsync(() => batcher.DroppedSamples == dropped + 1, HeldBatchFactory.Hold,
            () => $"the sample of the expired call was not dropped (dropped {batcher.DroppedSamples - dropped}, {batcher.Pending} pending)");
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task A_cancelled_gRPC_call_frees_its_sample()
    {
        var batcher = Batcher();
        using var channel = GrpcChannel.ForAddress(factory.Grpc);
        using var cancel = new CancellationTokenSource();
        var call = new ClassificationService.ClassificationServiceClient(channel)
            .ClassifyAsync(new ClassifyRequest { Id = "gone", Image = Google.Protobuf.ByteString.CopyFrom(CorpusImages.GreyPng(1)) }, cancellationToken: cancel.Token);

        await AssertDroppedAsync(batcher, 1, async () =>
        {
            await cancel.CancelAsync();
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
            Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        });
    }

    [Fact]
    public async Task Clients_that_leave_one_after_the_other_while_the_batcher_waits_are_each_dropped_once()
    {
        var batcher = Batcher();
        using var channel = GrpcChannel.ForAddress(factory.Grpc);
        var client = new ClassificationService.ClassificationServiceClient(channel);
        var dropped = batcher.DroppedSamples;

        // Both leave within one wait of the batcher for company: each sweep must count only what it removes.
        for (var i = 0; i < 2; i++)
        {
            using var cancel = new CancellationTokenSource();
            var call = client.ClassifyAsync(new ClassifyRequest { Id = $"gone-{i}", Image = Google.Protobuf.ByteString.CopyFrom(CorpusImages.GreyPng(i)) }, cancellationToken: cancel.Token);
            await WaitUntilAsync(() => batcher.Pending == 1, TimeSpan.FromSeconds(30), () => $"call {i} never reached the batcher ({batcher.Pending} pending)");
            await cancel.CancelAsync();
            await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
            await WaitUntilAsync(() => batcher.Pending <= 0, HeldBatchFactory.Hold, () => $"call {i} was not swept ({batcher.Pending} pending)");
            Assert.True(batcher.Pending == 0, $"{batcher.Pending} samples pending after call {i} left: a sweep subtracted samples an earlier sweep had removed");
        }

        Assert.Equal(0, batcher.Pending);
        Assert.Equal(dropped + 2, batcher.DroppedSamples);
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan patience, string failure) => WaitUntilAsync(condition, patience, () => failure);

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan patience, Func<string> failure)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > patience) throw new Xunit.Sdk.XunitException($"{failure()} within {patience.TotalSeconds:F1} s");
            await Task.Delay(5);
        }
    }
}
