using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Api.Tests.Reliability;

/// <summary>What the service answers for the good image every corpus case is followed by.</summary>
public sealed record GoodAnswer(string Label, int ClassIndex, int Exit, float Confidence);

/// <summary>
/// Sends corpus cases and checks what comes back: the documented status, in the documented shape (problem details
/// on /v1, the protocol's error on /v2, a gRPC status), with nothing internal in it.
/// </summary>
internal static class CorpusChecks
{
    /// <summary>A real test image that is not used by any case, so that its answer is untouched by them.</summary>
    private static readonly byte[] Good = CorpusImages.GreyPng(3);

    public static async Task<GoodAnswer> GoodAnswerAsync(HttpClient client)
    {
        var answer = await client.ClassifyAsync(Good);
        return new GoodAnswer(answer.Label, answer.ClassIndex, answer.Exit, answer.Confidence);
    }

    public static async Task<GoodAnswer> GoodAnswerAsync(GrpcChannel channel)
    {
        var answer = (await new ClassificationService.ClassificationServiceClient(channel).ClassifyAsync(
            new ClassifyRequest { Id = "good", Image = Google.Protobuf.ByteString.CopyFrom(Good) })).Classification;
        return new GoodAnswer(answer.Label, answer.ClassIndex, answer.Exit, answer.Confidence);
    }

    public static async Task AssertCaseAsync(HttpClient client, HttpCase @case, string model)
    {
        using var request = new HttpRequestMessage(@case.Verb, @case.Path.Replace("{model}", model, StringComparison.Ordinal)) { Content = @case.Content() };
        // A large body goes out as a careful client sends it, after 100-continue: over a real socket Kestrel refuses
        // a body past its limit before reading it and closes the connection, which a client still sending sees as
        // a broken pipe instead of the 413.
        if (request.Content?.Headers.ContentLength > 1 << 20) request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);
        if (@case.Status == HttpStatusCode.OK)
        {
            var answer = await OkJsonAsync<ScanService.Api.Rest.ClassifyResponse>(response);
            Assert.InRange(answer.Exit, 1, answer.ExitCount);
            Assert.InRange(answer.Confidence, 0f, 1f);
            Assert.False(string.IsNullOrEmpty(answer.Label));
            return;
        }
        if (@case.Path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            await AssertProtocolErrorAsync(response, @case.Status);
            return;
        }
        if (@case.Status == HttpStatusCode.NotFound)
        {
            // A route that does not exist: a problem from the status-code pages, which carries no detail.
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"expected 404, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            AssertNothingInternal(body);
            return;
        }
        var problem = await AssertProblemAsync(response, @case.Status);
        if (@case.Reason is not null) Assert.Equal(@case.Reason, problem.GetProperty("reason").GetString());
    }

    public static async Task AssertCaseAsync(GrpcChannel channel, GrpcCase @case, string model)
    {
        var status = await @case.Call(channel, model);
        Assert.True(status.StatusCode == @case.Status, $"expected {@case.Status}, got {status.StatusCode}: {status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(status.Detail), "the status carries no message");
        AssertNothingInternal(status.Detail);
    }

    public static async Task AssertLiveAsync(HttpClient client)
    {
        using var live = await client.GetAsync("/v2/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await client.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
