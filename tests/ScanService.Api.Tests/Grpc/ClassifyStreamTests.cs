using Grpc.Core;
using ScanService.Api.Grpc;
using ScanService.Protocols.Scan.V1;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Grpc;

public sealed class ClassifyStreamTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ScanApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private ClassificationService.ClassificationServiceClient Client(ScanApiFactory? factory = null) =>
        new((factory ?? _factory).InMemoryChannel());

    [Fact]
    public async Task A_thousand_items_each_get_exactly_one_answer_equal_to_the_unary_answer()
    {
        var client = Client();
        var images = FashionMnistImages.Take(8);
        var unary = await UnaryAnswersAsync(client, images, null);

        var answers = await ExchangeAsync(client, Enumerable.Range(0, 1000).Select(i => Request($"item-{i}", images[i % images.Count])));

        Assert.Equal(1000, answers.Count);
        Assert.Equal(1000, answers.Select(a => a.Id).Distinct().Count());
        foreach (var answer in answers)
        {
            var i = int.Parse(answer.Id["item-".Length..]);
            Assert.Equal(ClassifyStreamResponse.OutcomeOneofCase.Result, answer.OutcomeCase);
            Assert.Equal(unary[i % images.Count], answer.Result);
        }
    }

    [Fact]
    public async Task Answers_that_come_back_out_of_order_carry_the_ids_of_their_items()
    {
        var client = Client();
        var images = FashionMnistImages.Take(8);
        var fullDepth = new ClassifyOptions { FullDepth = true };
        var firstExit = new ClassifyOptions { MaxExit = 1 };
        var deep = await UnaryAnswersAsync(client, images, fullDepth);
        var shallow = await UnaryAnswersAsync(client, images, firstExit);

        // Deep and shallow items alternate, so the shallow ones may overtake; ids alone say which is which.
        var answers = await ExchangeAsync(client, Enumerable.Range(0, 200)
            .Select(i => Request($"{(i % 2 == 0 ? "deep" : "shallow")}-{i}", images[i % images.Count], i % 2 == 0 ? fullDepth : firstExit)));

        Assert.Equal(200, answers.Select(a => a.Id).Distinct().Count());
        foreach (var answer in answers)
        {
            var i = int.Parse(answer.Id[(answer.Id.IndexOf('-') + 1)..]);
            var expected = answer.Id.StartsWith("deep", StringComparison.Ordinal) ? deep[i % images.Count] : shallow[i % images.Count];
            Assert.Equal(expected, answer.Result);
            Assert.Equal(answer.Id.StartsWith("deep", StringComparison.Ordinal) ? expected.ExitCount : 1, answer.Result.Exit);
        }
    }

    [Fact]
    public async Task Bad_items_get_error_answers_and_the_stream_goes_on()
    {
        var client = Client();
        var png = FashionMnistImages.Take(1)[0];
        string[] bad = ["undecodable image", "empty image", "unknown operating point", "max exit zero", "max exit past the last", "full depth with ensemble", "negative top k"];
        var items = new List<ClassifyRequest> { Request("good-before", png) };
        items.AddRange(bad.Select(b => ClassifyTests.BadRequest(b, id: $"bad-{b}")));
        items.Add(Request("", png));
        items.Add(Request("good-after", png));

        using var call = client.ClassifyStream();
        var answers = await ExchangeAsync(call, items);

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(items.Count, answers.Count);
        Assert.Equal(ClassifyStreamResponse.OutcomeOneofCase.Result, answers.Single(a => a.Id == "good-before").OutcomeCase);
        Assert.Equal(ClassifyStreamResponse.OutcomeOneofCase.Result, answers.Single(a => a.Id == "good-after").OutcomeCase);
        foreach (var b in bad)
        {
            var error = answers.Single(a => a.Id == $"bad-{b}").Error;
            Assert.Equal((int)StatusCode.InvalidArgument, error.Code);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
        Assert.Equal((int)StatusCode.InvalidArgument, answers.Single(a => a.Id == "").Error.Code);
    }

    [Fact]
    public async Task An_item_over_the_image_limit_gets_its_own_error_answer_and_the_stream_goes_on()
    {
        using var factory = new ScanApiFactory().With("Limits:MaxRequestBodyBytes", "4096").With("Limits:MaxBatchRequestBodyBytes", "65536");
        var png = FashionMnistImages.Take(1)[0];
        var items = Enumerable.Range(0, 20).Select(i => Request($"good-{i}", png)).ToList();
        items.Insert(10, Request("big", new byte[8192]));
        using var call = Client(factory).ClassifyStream();

        var answers = await ExchangeAsync(call, items);

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(21, answers.Count);
        var big = answers.Single(a => a.Id == "big").Error;
        Assert.Equal((int)StatusCode.ResourceExhausted, big.Code);
        Assert.Contains("at most 4096 bytes", big.Message);
        Assert.All(answers.Where(a => a.Id != "big"), a => Assert.Equal(ClassifyStreamResponse.OutcomeOneofCase.Result, a.OutcomeCase));
    }

    [Fact]
    public async Task An_item_the_transport_cannot_read_ends_the_call_only_after_every_item_read_before_it_is_answered()
    {
        // Items wait for company in the batcher, so that many are still unanswered when the unreadable one arrives.
        using var factory = new ScanApiFactory()
            .With("Limits:MaxRequestBodyBytes", "4096").With("Limits:MaxBatchRequestBodyBytes", "16384")
            .With("Batching:MaxBatchSize", "64").With("Batching:MaxDelayMilliseconds", "200");
        var images = FashionMnistImages.Take(8);
        using var call = Client(factory).ClassifyStream();
        var reading = Task.Run(async () =>
        {
            var answers = new List<ClassifyStreamResponse>();
            try
            {
                await foreach (var answer in call.ResponseStream.ReadAllAsync()) answers.Add(answer);
                return (answers, StatusCode.OK);
            }
            catch (RpcException e)
            {
                return (answers, e.StatusCode);
            }
        });

        for (var i = 0; i < 50; i++) await call.RequestStream.WriteAsync(Request($"item-{i}", images[i % images.Count]));
        try
        {
            await call.RequestStream.WriteAsync(Request("unreadable", new byte[100_000]));
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // The server may end the call before the client finishes writing: what it answered is what counts.
        }
        var (received, status) = await reading.WaitAsync(Patience);

        Assert.Equal(StatusCode.ResourceExhausted, status);
        Assert.Equal(50, received.Count);
        Assert.Equal(50, received.Select(a => a.Id).Distinct().Count());
        Assert.All(received, a => Assert.Equal(ClassifyStreamResponse.OutcomeOneofCase.Result, a.OutcomeCase));
    }

    [Fact]
    public async Task The_server_reads_no_further_ahead_than_its_bound()
    {
        using var factory = new ScanApiFactory().With("Grpc:MaxStreamItemsInFlight", "2");
        var images = FashionMnistImages.Take(4);

        var answers = await ExchangeAsync(Client(factory), Enumerable.Range(0, 60).Select(i => Request($"item-{i}", images[i % images.Count])));

        Assert.Equal(60, answers.Count);
        var inFlight = factory.Service<InFlightStreamItems>();
        Assert.InRange(inFlight.Peak, 1, 2);
        Assert.Equal(0, inFlight.Count);
    }

    /// <summary>Counts the answers the classifier reports to its observers (what the exit metrics count).</summary>
    private sealed class AnswerCounter : ScanService.Api.Classifier.IClassificationObserver
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);
        public void Answered(LoadedModel model, ExitPlan plan, ReadOnlyMemory<float> sample, Prediction prediction) => Interlocked.Increment(ref _count);
    }

    [Fact]
    public async Task A_cancelled_call_stops_its_work_on_the_server()
    {
        // Each item waits a second in the batcher for company it never gets (4 in flight, batches of 64), so the
        // cancellation always finds work under way, however fast the machine.
        var answered = new AnswerCounter();
        using var factory = new ScanApiFactory()
            .With("Grpc:MaxStreamItemsInFlight", "4")
            .With("Batching:MaxBatchSize", "64")
            .With("Batching:MaxDelayMilliseconds", "1000")
            .AddServices(services => services.AddSingleton<ScanService.Api.Classifier.IClassificationObserver>(answered));
        var client = Client(factory);
        var inFlight = factory.Service<InFlightStreamItems>();
        var slow = FashionMnistImages.Take(1)[0];
        using var cancel = new CancellationTokenSource();
        using var call = client.ClassifyStream(cancellationToken: cancel.Token);

        // The client sends without end and never completes: only the cancellation can end this call.
        var sending = Task.Run(async () =>
        {
            for (var i = 0; ; i++)
                await call.RequestStream.WriteAsync(Request($"item-{i}", slow, new ClassifyOptions { FullDepth = true }));
        });
        var received = 0;
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) Interlocked.Increment(ref received);
        });
        await WaitUntilAsync(() => inFlight.Count > 0, Patience);

        await cancel.CancelAsync();

        await WaitUntilAsync(() => inFlight.Count == 0, TimeSpan.FromSeconds(10));
        // Items caught mid-work stop there instead of running to an answer nobody reads.
        Assert.True(inFlight.Abandoned > 0, "no item was abandoned: the work of the cancelled call ran to the end");
        var readError = await Assert.ThrowsAsync<RpcException>(() => reading);
        Assert.Equal(StatusCode.Cancelled, readError.StatusCode);
        // Work nobody reads is not counted as answered (scan_exits_total and the agreement sampler hear of answers only).
        await Task.Delay(1500);
        Assert.Equal(Volatile.Read(ref received), answered.Count);
        await Assert.ThrowsAnyAsync<Exception>(() => sending);
    }

    [Fact]
    public async Task A_stream_is_refused_with_UNAVAILABLE_while_no_model_is_loaded()
    {
        using var factory = new ScanApiFactory().With("Model:BundlePath", Path.Combine(Path.GetTempPath(), "no-such-bundle"));
        using var call = Client(factory).ClassifyStream();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(Request("a", FashionMnistImages.Take(1)[0]));
            await call.ResponseStream.MoveNext();
        });

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    internal static async Task<Classification[]> UnaryAnswersAsync(ClassificationService.ClassificationServiceClient client, IReadOnlyList<byte[]> images, ClassifyOptions? options)
    {
        var answers = new Classification[images.Count];
        for (var i = 0; i < images.Count; i++)
            answers[i] = (await client.ClassifyAsync(Request($"unary-{i}", images[i], options))).Classification;
        return answers;
    }

    internal static async Task<List<ClassifyStreamResponse>> ExchangeAsync(ClassificationService.ClassificationServiceClient client, IEnumerable<ClassifyRequest> items)
    {
        using var call = client.ClassifyStream();
        return await ExchangeAsync(call, items);
    }

    /// <summary>Sends every item, then completes, while reading answers concurrently (the server's read-ahead is bounded).</summary>
    internal static async Task<List<ClassifyStreamResponse>> ExchangeAsync(AsyncDuplexStreamingCall<ClassifyRequest, ClassifyStreamResponse> call, IEnumerable<ClassifyRequest> items)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var reading = Task.Run(async () =>
        {
            var answers = new List<ClassifyStreamResponse>();
            await foreach (var answer in call.ResponseStream.ReadAllAsync(timeout.Token)) answers.Add(answer);
            return answers;
        });
        foreach (var item in items) await call.RequestStream.WriteAsync(item, timeout.Token);
        await call.RequestStream.CompleteAsync();
        return await reading;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the condition did not hold in time");
            await Task.Delay(10);
        }
    }
}
