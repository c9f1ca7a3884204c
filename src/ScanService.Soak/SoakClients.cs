using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ScanService.Api.Grpc.V1;

namespace ScanService.Soak;

/// <summary>What every client shares: the service's two front ends, the model's name, the images and the cases with their reference answers.</summary>
public sealed class SoakTarget(HttpClient http, GrpcChannel grpc, string model, IReadOnlyList<byte[]> images, IReadOnlyList<SoakCase> cases, TimeSpan timeout, SoakProgress progress)
{
    public HttpClient Http => http;
    public ClassificationService.ClassificationServiceClient Grpc { get; } = new(grpc);
    public string Model => model;
    public IReadOnlyList<byte[]> Images => images;
    public IReadOnlyList<ByteString> GrpcImages { get; } = images.Select(ByteString.CopyFrom).ToList();
    public IReadOnlyList<SoakCase> Cases => cases;
    public TimeSpan Timeout => timeout;
    public SoakProgress Progress => progress;
}

/// <summary>
/// A closed-loop client: sends a request for a random case, checks the answer against the case's reference, sends the
/// next, until the deadline. Each keeps its own tally per route; the runner adds them up at the end.
/// </summary>
public abstract class SoakClient(SoakTarget target, int seed)
{
    protected SoakTarget Target => target;
    protected Random Random { get; } = new(seed);
    public Dictionary<string, RouteTally> Routes { get; } = [];

    public abstract Task RunAsync(long deadline, CancellationToken cancellationToken);

    protected SoakCase NextCase() => target.Cases[Random.Next(target.Cases.Count)];

    protected void Record(string route, SoakCase @case, Outcome outcome, double latencyMs, string? detail = null)
    {
        if (!Routes.TryGetValue(route, out var tally)) Routes[route] = tally = new RouteTally();
        tally.Add(outcome, latencyMs);
        var problem = outcome switch
        {
            Outcome.Wrong => $"{route}: wrong answer for image {@case.Image} with {@case.Profile}: {detail}, reference class {@case.Expected.ClassIndex} exit {@case.Expected.Exit}",
            Outcome.Error => $"{route}: image {@case.Image} with {@case.Profile}: {detail}",
            _ => null,
        };
        target.Progress.Count(outcome, problem);
    }

    protected static Outcome Judge(SoakCase @case, int classIndex, int exit) =>
        classIndex == @case.Expected.ClassIndex && exit == @case.Expected.Exit ? Outcome.Answered : Outcome.Wrong;

    protected static double Since(long started) => Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

/// <summary>REST: half the requests a raw image body to /v1/classify, a quarter multipart, a quarter BYTES to the /v2 infer route.</summary>
public sealed class RestSoakClient(SoakTarget target, int seed) : SoakClient(target, seed)
{
    public const string Raw = "REST /v1 raw body";
    public const string Multipart = "REST /v1 multipart";
    public const string Infer = "REST /v2 infer";

    public override async Task RunAsync(long deadline, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            var @case = NextCase();
            var route = Random.Next(4) switch { 0 or 1 => Raw, 2 => Multipart, _ => Infer };
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = route == Infer ? InferRequest(@case) : ClassifyRequest(@case, route == Multipart);
                using var response = await Target.Http.SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Record(route, @case, Outcome.Refused, Since(started));
                    continue;
                }
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Record(route, @case, Outcome.Error, Since(started), $"HTTP {(int)response.StatusCode}: {Shorten(body)}");
                    continue;
                }
                var (classIndex, exit) = route == Infer ? ReadInferAnswer(body) : ReadClassifyAnswer(body);
                Record(route, @case, Judge(@case, classIndex, exit), Since(started), $"class {classIndex} exit {exit}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                if (cancellationToken.IsCancellationRequested) return;
                Record(route, @case, Outcome.Error, Since(started), $"{e.GetType().Name}: {e.Message}");
            }
        }
    }

    private HttpRequestMessage ClassifyRequest(SoakCase @case, bool multipart)
    {
        var image = new ByteArrayContent(Target.Images[@case.Image]);
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        HttpContent content = image;
        if (multipart) content = new MultipartFormDataContent { { image, "image", $"{@case.Image}.png" } };
        return new HttpRequestMessage(HttpMethod.Post, "/v1/classify" + @case.Profile.Query()) { Content = content };
    }

    private HttpRequestMessage InferRequest(SoakCase @case)
    {
        var body = new JsonObject
        {
            ["id"] = $"{@case.Image}",
            ["parameters"] = @case.Profile.InferParameters(),
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image",
                ["datatype"] = "BYTES",
                ["shape"] = new JsonArray(1),
                ["data"] = new JsonArray(Convert.ToBase64String(Target.Images[@case.Image])),
            }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "class_index" }, new JsonObject { ["name"] = "exit_index" }),
        };
        return new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{Uri.EscapeDataString(Target.Model)}/infer") { Content = JsonContent.Create(body) };
    }

    public static (int ClassIndex, int Exit) ReadClassifyAnswer(string body)
    {
        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("classIndex").GetInt32(), json.RootElement.GetProperty("exit").GetInt32());
    }

    private static (int ClassIndex, int Exit) ReadInferAnswer(string body)
    {
        using var json = JsonDocument.Parse(body);
        int? classIndex = null, exit = null;
        foreach (var output in json.RootElement.GetProperty("outputs").EnumerateArray())
        {
            var value = output.GetProperty("data")[0].GetInt32();
            switch (output.GetProperty("name").GetString())
            {
                case "class_index": classIndex = value; break;
                case "exit_index": exit = value; break;
            }
        }
        return (classIndex ?? throw new KeyNotFoundException("no class_index output"), exit ?? throw new KeyNotFoundException("no exit_index output"));
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}

/// <summary>gRPC scan.v1 Classify, one image per call.</summary>
public sealed class GrpcUnarySoakClient(SoakTarget target, int seed) : SoakClient(target, seed)
{
    public const string Route = "gRPC Classify";

    public override async Task RunAsync(long deadline, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            var @case = NextCase();
            var started = Stopwatch.GetTimestamp();
            try
            {
                var request = new ClassifyRequest { Id = $"{@case.Image}", Image = Target.GrpcImages[@case.Image], Options = @case.Profile.Grpc() };
                var response = await Target.Grpc.ClassifyAsync(request, deadline: DateTime.UtcNow + Target.Timeout, cancellationToken: cancellationToken);
                var answer = response.Classification;
                Record(Route, @case, Judge(@case, answer.ClassIndex, answer.Exit), Since(started), $"class {answer.ClassIndex} exit {answer.Exit}");
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                Record(Route, @case, Outcome.Refused, Since(started));
            }
            catch (RpcException e)
            {
                if (cancellationToken.IsCancellationRequested) return;
                Record(Route, @case, Outcome.Error, Since(started), $"{e.StatusCode}: {e.Status.Detail}");
            }
        }
    }
}

/// <summary>
/// gRPC scan.v1 ClassifyStream: a call kept open for a while, with up to a window of items unanswered at once (so
/// answers may come back out of order, matched by id); each call ends after a few hundred items and a new one opens.
/// </summary>
public sealed class GrpcStreamSoakClient(SoakTarget target, int seed, int window) : SoakClient(target, seed)
{
    public const string Route = "gRPC ClassifyStream";
    private const int ItemsPerCall = 250;
    private int _nextId;

    public override async Task RunAsync(long deadline, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
            await OneCallAsync(deadline, cancellationToken);
    }

    private async Task OneCallAsync(long deadline, CancellationToken cancellationToken)
    {
        // Cancelled by this client when an answer takes longer than the timeout, so that a stuck call cannot stall it.
        using var stuck = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var call = Target.Grpc.ClassifyStream(cancellationToken: stuck.Token);
        using var slots = new SemaphoreSlim(window, window);
        var pending = new ConcurrentDictionary<string, (SoakCase Case, long Sent)>();
        var reading = ReadAnswersAsync(call, pending, slots, stuck.Token);
        string? callError = null;
        try
        {
            for (var i = 0; i < ItemsPerCall && Stopwatch.GetTimestamp() < deadline && !reading.IsCompleted; i++)
            {
                if (!await slots.WaitAsync(Target.Timeout, cancellationToken))
                {
                    callError = $"no answer within {Target.Timeout.TotalSeconds:F0} s while {window} items waited";
                    break;
                }
                var @case = NextCase();
                var id = $"{Interlocked.Increment(ref _nextId)}";
                pending[id] = (@case, Stopwatch.GetTimestamp());
                await call.RequestStream.WriteAsync(new ClassifyRequest { Id = id, Image = Target.GrpcImages[@case.Image], Options = @case.Profile.Grpc() }, cancellationToken);
            }
            if (callError is null) await call.RequestStream.CompleteAsync();
        }
        catch (RpcException e)
        {
            callError = $"the call failed while sending: {e.StatusCode}: {e.Status.Detail}";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        if (callError is null)
        {
            try
            {
                await reading.WaitAsync(Target.Timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                callError = $"the call did not end within {Target.Timeout.TotalSeconds:F0} s of its last item";
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
        if (callError is not null) await stuck.CancelAsync();
        var readError = await reading;
        if (cancellationToken.IsCancellationRequested) return;
        callError ??= readError;
        // Items that never got an answer are errors: the server promises one answer per item read.
        foreach (var (_, (@case, sent)) in pending)
            Record(Route, @case, Outcome.Error, Since(sent), callError ?? "the call ended without answering this item");
    }

    /// <summary>Answers until the server ends the call; the reason when it ends with an error.</summary>
    private async Task<string?> ReadAnswersAsync(AsyncDuplexStreamingCall<ClassifyRequest, ClassifyStreamResponse> call,
        ConcurrentDictionary<string, (SoakCase Case, long Sent)> pending, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var answer in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (!pending.TryRemove(answer.Id, out var item))
                {
                    Target.Progress.Count(Outcome.Error, $"{Route}: an answer for unknown id '{answer.Id}'");
                    continue;
                }
                var latency = Since(item.Sent);
                if (answer.OutcomeCase == ClassifyStreamResponse.OutcomeOneofCase.Result)
                    Record(Route, item.Case, Judge(item.Case, answer.Result.ClassIndex, answer.Result.Exit), latency, $"class {answer.Result.ClassIndex} exit {answer.Result.Exit}");
                else if (answer.Error.Code == (int)StatusCode.ResourceExhausted)
                    Record(Route, item.Case, Outcome.Refused, latency);
                else
                    Record(Route, item.Case, Outcome.Error, latency, $"item error {(StatusCode)answer.Error.Code}: {answer.Error.Message}");
                slots.Release();
            }
            return null;
        }
        catch (RpcException e)
        {
            return $"the call ended with {e.StatusCode}: {e.Status.Detail}";
        }
        catch (OperationCanceledException)
        {
            return "cancelled";
        }
    }
}
