using Grpc.Core;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Classifier;
using ScanService.Core.Batching;
using GrpcTestServer = ScanService.Api.Tests.Grpc.GrpcTestServer;
using Images = ScanService.Api.Tests.Rest.FashionMnistImages;

namespace ScanService.Api.Tests.Inference;

/// <summary>
/// The service's dynamic batcher as the front ends meet it: a full queue refuses at once in each protocol's own way,
/// and a newly loaded model gets a batcher of its own.
/// </summary>
public sealed class BatchingTests : IDisposable
{
    // One sample fills the queue, and it waits a full second for company before it runs.
    private readonly ScanApiFactory _factory = new ScanApiFactory()
        .With("Batching:QueueCapacity", "1")
        .With("Batching:MaxBatchSize", "64")
        .With("Batching:MaxDelayMilliseconds", "1000");

    public void Dispose() => _factory.Dispose();

    private DynamicBatcher Batcher() =>
        _factory.Model().Batcher ?? throw new InvalidOperationException("no batcher");

    /// <summary>Starts a request that holds the queue's only place, and waits until it does.</summary>
    private async Task<T> WhileTheQueueIsFull<T>(Func<Task> occupy, Func<Task<T>> refused)
    {
        var occupying = occupy();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Batcher().Pending == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the first request never reached the batcher");
            await Task.Delay(5);
        }
        var result = await refused();
        await occupying;
        return result;
    }

    [Fact]
    public async Task A_full_queue_is_429_with_problem_details_on_v1()
    {
        var client = _factory.CreateClient();
        var png = Images.Png(0);
        using var response = await WhileTheQueueIsFull(
            () => client.ClassifyAsync(png),
            () => client.PostAsync("/v1/classify", Raw(png, "image/png")));
        var problem = await AssertProblemAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal("https://tools.ietf.org/html/rfc6585#section-4", problem.GetProperty("type").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_full_queue_is_429_with_the_protocols_error_on_v2()
    {
        var client = _factory.CreateClient();
        var sample = _factory.Model().Preprocess(Images.Png(0));
        var path = $"/v2/models/{_factory.Model().Name}/infer";
        using var response = await WhileTheQueueIsFull(
            async () => (await client.PostAsync(path, InferBody(Fp32Request(sample, 1)))).EnsureSuccessStatusCode(),
            () => client.PostAsync(path, InferBody(Fp32Request(sample, 1))));
        await AssertProtocolErrorAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_full_queue_is_RESOURCE_EXHAUSTED_over_gRPC()
    {
        using var channel = GrpcTestServer.InMemoryChannel(_factory);
        var client = new ClassificationService.ClassificationServiceClient(channel);
        var png = Images.Png(0);
        var error = await WhileTheQueueIsFull(
            () => client.ClassifyAsync(GrpcTestServer.Request("held", png)).ResponseAsync,
            () => Assert.ThrowsAsync<RpcException>(() => client.ClassifyAsync(GrpcTestServer.Request("refused", png)).ResponseAsync));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task A_newly_loaded_model_gets_a_batcher_of_its_own_and_requests_go_on()
    {
        var client = _factory.CreateClient();
        var png = Images.Png(3);
        var before = await client.ClassifyAsync(png);
        var first = Batcher();

        _factory.Services.GetRequiredService<ModelSlot>().Load();

        var after = await client.ClassifyAsync(png);
        Assert.NotSame(first, Batcher());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => first.ClassifyAsync(new float[first.Engine.SampleSize], 1, first.Engine.Resolve(new())));
        Assert.Equal((before.ClassIndex, before.Exit), (after.ClassIndex, after.Exit));
    }

    [Fact]
    public async Task A_replaced_model_answers_the_requests_it_took_then_closes_its_batcher_and_engine()
    {
        // Requests wait half a second in the batcher for company, so the reload finds them under way.
        using var factory = new ScanApiFactory().With("Batching:MaxBatchSize", "64").With("Batching:MaxDelayMilliseconds", "500");
        var client = factory.CreateClient();
        var png = Images.Png(5);
        var reference = await client.ClassifyAsync(png);
        var old = factory.Model();
        var running = Enumerable.Range(0, 4).Select(_ => client.ClassifyAsync(png)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (old.Leases < 4 && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.Equal(4, old.Leases);

        factory.Services.GetRequiredService<ModelSlot>().Load();

        Assert.NotSame(old, factory.Model());
        Assert.False(old.Retired.IsCompleted, "the replaced model closed while requests were still running on it");
        foreach (var answer in await Task.WhenAll(running))
        {
            Assert.Equal((reference.ClassIndex, reference.Exit), (answer.ClassIndex, answer.Exit));
            Assert.Equal(old.Version, answer.Model.Version);
        }
        await old.Retired.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, old.Leases);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => old.Batcher!.ClassifyAsync(new float[old.Engine.SampleSize], 1, old.Engine.Resolve(new())));
        // New requests run on the new model, which took none of the old one's leases.
        var after = await client.ClassifyAsync(png);
        Assert.Equal((reference.ClassIndex, reference.Exit), (after.ClassIndex, after.Exit));
        Assert.False(factory.Model().Retired.IsCompleted);
    }
}
