using Grpc.Net.Client;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Reliability;

/// <summary>The service with Model:MaxImagePixels lowered below the corpus's real 24-megapixel image.</summary>
public sealed class LowPixelLimitFactory : ScanApiFactory
{
    public LowPixelLimitFactory() => With("Model:MaxImagePixels", BadInputCorpus.LoweredPixelLimit.ToString());
}

/// <summary>
/// Every corpus case against the service in memory: each gets its documented status with nothing internal in the
/// body, the service stays live and ready, and the good request that follows is answered exactly as before.
/// </summary>
public class BadInputCorpusTests(ScanApiFactory defaults, LowPixelLimitFactory lowLimit)
    : IClassFixture<ScanApiFactory>, IClassFixture<LowPixelLimitFactory>
{
    public static TheoryData<string> HttpCases => [.. BadInputCorpus.Http.Select(c => c.Name)];
    public static TheoryData<string> GrpcCases => [.. BadInputCorpus.Grpc.Select(c => c.Name)];

    private ScanApiFactory Factory(CorpusService service) => service == CorpusService.Defaults ? defaults : lowLimit;

    private static string ModelName(ScanApiFactory factory) => factory.Services.GetRequiredService<ModelSlot>().Current!.Name;

    [Theory]
    [MemberData(nameof(HttpCases))]
    public async Task An_http_case_gets_its_documented_status_and_the_next_good_request_its_usual_answer(string name)
    {
        var @case = BadInputCorpus.HttpCase(name);
        var factory = Factory(@case.Service);
        using var client = factory.CreateClient();
        var before = await CorpusChecks.GoodAnswerAsync(client);

        await CorpusChecks.AssertCaseAsync(client, @case, ModelName(factory));

        await CorpusChecks.AssertLiveAsync(client);
        Assert.Equal(before, await CorpusChecks.GoodAnswerAsync(client));
    }

    [Theory]
    [MemberData(nameof(GrpcCases))]
    public async Task A_grpc_case_gets_its_documented_status_and_the_next_good_call_its_usual_answer(string name)
    {
        using var client = defaults.CreateClient();
        using var channel = GrpcChannel.ForAddress(defaults.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = defaults.Server.CreateHandler() });
        var before = await CorpusChecks.GoodAnswerAsync(client);

        await CorpusChecks.AssertCaseAsync(channel, BadInputCorpus.GrpcCase(name), ModelName(defaults));

        await CorpusChecks.AssertLiveAsync(client);
        Assert.Equal(before, await CorpusChecks.GoodAnswerAsync(channel));
    }
}

/// <summary>One pass of the whole corpus over real sockets, where Kestrel's own parsing and limits apply.</summary>
public class BadInputCorpusKestrelTests(LoopbackScanApiFactory factory, ITestOutputHelper output) : IClassFixture<LoopbackScanApiFactory>
{
    [Fact]
    public async Task Every_case_over_loopback_gets_its_documented_status_and_the_service_answers_as_before()
    {
        factory.StartServer();
        using var client = new HttpClient { BaseAddress = factory.Rest, Timeout = TimeSpan.FromSeconds(60) };
        using var channel = GrpcChannel.ForAddress(factory.Grpc);
        var model = factory.Services.GetRequiredService<ModelSlot>().Current!.Name;
        var before = await CorpusChecks.GoodAnswerAsync(client);
        Assert.Equal(before, await CorpusChecks.GoodAnswerAsync(channel));

        var sent = 0;
        foreach (var @case in BadInputCorpus.Http.Where(c => c.Service == CorpusService.Defaults))
        {
            await Named(@case.Name, () => CorpusChecks.AssertCaseAsync(client, @case, model));
            Assert.Equal(before, await CorpusChecks.GoodAnswerAsync(client));
            sent++;
        }
        foreach (var @case in BadInputCorpus.Grpc)
        {
            await Named(@case.Name, () => CorpusChecks.AssertCaseAsync(channel, @case, model));
            Assert.Equal(before, await CorpusChecks.GoodAnswerAsync(channel));
            sent++;
        }

        await CorpusChecks.AssertLiveAsync(client);
        output.WriteLine($"{sent} of {BadInputCorpus.Count} corpus cases sent over loopback (the rest need another configuration)");
    }

    /// <summary>Says which case failed: the pass is one test.</summary>
    private static async Task Named(string name, Func<Task> check)
    {
        try
        {
            await check();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"corpus case '{name}': {e.Message}");
        }
    }
}

/// <summary>The corpus itself: one place, every category the reliability issue names, and names that identify cases.</summary>
public class BadInputCorpusShapeTests(ITestOutputHelper output)
{
    [Fact]
    public void Cases_have_unique_names_and_cover_every_category()
    {
        var names = BadInputCorpus.Http.Select(c => c.Name).Concat(BadInputCorpus.Grpc.Select(c => c.Name)).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());

        var categories = BadInputCorpus.Http.Select(c => c.Category).Concat(BadInputCorpus.Grpc.Select(c => c.Category)).ToHashSet();
        string[] required =
        [
            "empty", "not an image", "truncated", "corrupt", "decompression bomb", "size", "valid variant", "content type",
            "multipart", "options", "size limit", "malformed JSON", "tensor", "missing field", "security",
        ];
        Assert.All(required, c => Assert.Contains(c, categories));

        output.WriteLine($"{BadInputCorpus.Count} cases: {BadInputCorpus.Http.Count} HTTP, {BadInputCorpus.Grpc.Count} gRPC");
        foreach (var group in BadInputCorpus.Http.Select(c => c.Category).Concat(BadInputCorpus.Grpc.Select(c => c.Category)).GroupBy(c => c))
            output.WriteLine($"  {group.Key}: {group.Count()}");
    }
}
