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
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Soak;

/// <summary>What every client shares: the service's two front ends, the model's name, the images and the cases with their reference answers.</summary>
public sealed class SoakTarget(HttpClient http, GrpcChannel grpc, string model, IReadOnlyList<byte[]> images, IReadOnlyList<SoakCase> cases, TimeSpan timeout, SoakProgress progress)
{
    public HttpClient Http => http;
    public ClassificationService.ClassificationServiceClient Grpc { get; } = new(grpc);
    public GRPCInferenceService.GRPCInferenceServiceClient Inference { get; } = new(grpc);
    public string Model => model;
    public IReadOnlyList<byte[]> Images => images;
    public IReadOnlyList<ByteString> GrpcImages { get; } = images.Select(ByteString.CopyFrom).ToList();
    public IReadOnlyList<SoakCase> Cases => cases;
    public TimeSpan Timeout => timeout;
    public SoakProgress Progress => progress;
    /// <summary>An image past the service's one-image limit, sent now and then on streams; null for none.</summary>
    public ByteString? OversizeItem { get; init; }
    /// <summary>Share of stream calls cancelled on purpose by their client.</summary>
    public double CancelledCallShare { get; init; }
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

/// <summary>gRPC unary calls, one image each: scan.v1 Classify and the Open Inference Protocol's ModelInfer, in turn.</summary>
public sealed class GrpcUnarySoakClient(SoakTarget target, int seed) : SoakClient(target, seed)
{
    public const string Route = "gRPC Classify";
    public const string InferRoute = "gRPC ModelInfer";

    public override async Task RunAsync(long deadline, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            var @case = NextCase();
            var route = Random.Next(2) == 0 ? Route : InferRoute;
            var started = Stopwatch.GetTimestamp();
            try
            {
                var (classIndex, exit) = route == Route ? await ClassifyAsync(@case, cancellationToken) : await InferAsync(@case, cancellationToken);
                Record(route, @case, Judge(@case, classIndex, exit), Since(started), $"class {classIndex} exit {exit}");
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                Record(route, @case, Outcome.Refused, Since(started));
            }
            catch (RpcException e)
            {
                if (cancellationToken.IsCancellationRequested) return;
                Record(route, @case, Outcome.Error, Since(started), $"{e.StatusCode}: {e.Status.Detail}");
            }
        }
    }

    private async Task<(int ClassIndex, int Exit)> ClassifyAsync(SoakCase @case, CancellationToken cancellationToken)
    {
        var request = new ClassifyRequest { Id = $"{@case.Image}", Image = Target.GrpcImages[@case.Image], Options = @case.Profile.Grpc() };
        var answer = (await Target.Grpc.ClassifyAsync(request, deadline: DateTime.UtcNow + Target.Timeout, cancellationToken: cancellationToken)).Classification;
        return (answer.ClassIndex, answer.Exit);
    }

    private async Task<(int ClassIndex, int Exit)> InferAsync(SoakCase @case, CancellationToken cancellationToken)
    {
        var request = new ModelInferRequest { ModelName = Target.Model, Id = $"{@case.Image}" };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor
        {
            Name = "image", Datatype = "BYTES", Shape = { 1 },
            Contents = new InferTensorContents { BytesContents = { Target.GrpcImages[@case.Image] } },
        });
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "class_index" });
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "exit_index" });
        @case.Profile.AddInferParameters(request.Parameters);
        var response = await Target.Inference.ModelInferAsync(request, deadline: DateTime.UtcNow + Target.Timeout, cancellationToken: cancellationToken);
        var outputs = response.Outputs.ToDictionary(o => o.Name, o => o.Contents.Int64Contents[0]);
        return ((int)outputs["class_index"], (int)outputs["exit_index"]);
    }
}

/// <summary>
/// gRPC scan.v1 ClassifyStream: a call kept open for a while, with up to a window of items unanswered at once (so
/// answers may come back out of order, matched by id); each call ends after a few hundred items and a new one opens.
/// Every few seconds an item over the size limit goes out (it must get its own RESOURCE_EXHAUSTED answer and the
/// stream must go on), and some calls are cancelled by the client part way (their unanswered items are not errors).
/// </summary>
public sealed class GrpcStreamSoakClient(SoakTarget target, int seed, int window) : SoakClient(target, seed)
{
    public const string Route = "gRPC ClassifyStream";
    private const int ItemsPerCall = 250;
    private const string OversizeId = "oversize-";
    private int _nextId;
    private long _nextOversize;

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
        var cancelAfter = Random.NextDouble() < Target.CancelledCallShare ? Random.Next(5, 60) : -1;
        var cancelledOnPurpose = false;
        if (_nextOversize == 0) _nextOversize = Stopwatch.GetTimestamp() + Stopwatch.Frequency * Random.Next(1, 6);
        try
        {
            for (var i = 0; i < ItemsPerCall && Stopwatch.GetTimestamp() < deadline && !reading.IsCompleted; i++)
            {
                if (i == cancelAfter)
                {
                    cancelledOnPurpose = true;
                    break;
                }
                if (!await slots.WaitAsync(Target.Timeout, cancellationToken))
                {
                    callError = $"no answer within {Target.Timeout.TotalSeconds:F0} s while {window} items waited";
                    break;
                }
                var @case = NextCase();
                var oversize = Target.OversizeItem is not null && Stopwatch.GetTimestamp() > _nextOversize;
                var id = $"{(oversize ? OversizeId : "")}{Interlocked.Increment(ref _nextId)}";
                pending[id] = (@case, Stopwatch.GetTimestamp());
                if (oversize) _nextOversize = Stopwatch.GetTimestamp() + Stopwatch.Frequency * Random.Next(3, 8);
                await call.RequestStream.WriteAsync(new ClassifyRequest { Id = id, Image = oversize ? Target.OversizeItem! : Target.GrpcImages[@case.Image], Options = @case.Profile.Grpc() }, cancellationToken);
            }
            if (cancelledOnPurpose)
            {
                // Gives the server a moment with items in flight, then walks away from them.
                await Task.Delay(Random.Next(0, 20), cancellationToken);
                await stuck.CancelAsync();
            }
            else if (callError is null)
            {
                await call.RequestStream.CompleteAsync();
            }
        }
        catch (RpcException e)
        {
            callError = $"the call failed while sending: {e.StatusCode}: {e.Status.Detail}";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        if (callError is null && !cancelledOnPurpose)
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
        // Items that never got an answer are errors (the server promises one answer per item read), unless this client
        // cancelled the call on purpose.
        foreach (var (_, (@case, sent)) in pending)
            Record(Route, @case, cancelledOnPurpose ? Outcome.Cancelled : Outcome.Error, Since(sent), callError ?? "the call ended without answering this item");
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
                if (answer.Id.StartsWith(OversizeId, StringComparison.Ordinal))
                {
                    var declined = answer.OutcomeCase == ClassifyStreamResponse.OutcomeOneofCase.Error
                        && answer.Error.Code == (int)StatusCode.ResourceExhausted && answer.Error.Message.Contains("one image may have at most", StringComparison.Ordinal);
                    Record(Route, item.Case, declined ? Outcome.Declined : Outcome.Error, latency,
                        $"an over-size item got {(answer.OutcomeCase == ClassifyStreamResponse.OutcomeOneofCase.Result ? "an answer" : $"{(StatusCode)answer.Error.Code}: {answer.Error.Message}")}");
                }
                else if (answer.OutcomeCase == ClassifyStreamResponse.OutcomeOneofCase.Result)
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
