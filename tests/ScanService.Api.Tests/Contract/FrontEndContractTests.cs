using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Tests.Grpc;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Contract;

/// <summary>
/// One seeded random set of requests (valid, invalid and over the limits, single images and batches) sent through
/// every front end: /v1 REST, Open Inference Protocol REST (/v2), scan.v1 gRPC (Classify, and ClassifyStream for
/// batches) and the protocol's gRPC ModelInfer. Each case must get the same answers (class, exit, probabilities) or
/// the same refusal (status family and message) everywhere.
/// </summary>
public sealed partial class FrontEndContractTests(ITestOutputHelper output) : IDisposable
{
    private const int MaxImages = 6;
    private const int MaxImageBytes = 8192;
    private const int Cases = 80;

    private readonly ScanApiFactory _factory = new ScanApiFactory()
        .With("Limits:MaxBatchImages", $"{MaxImages}")
        .With("Limits:MaxRequestBodyBytes", $"{MaxImageBytes}")
        .With("Limits:MaxBatchRequestBodyBytes", $"{256 * 1024}");

    public void Dispose() => _factory.Dispose();

    /// <summary>What a request carried, as every front end can say it.</summary>
    private sealed record Case(int Number, IReadOnlyList<byte[]> Images, string? OperatingPoint, int? MaxExit, bool FullDepth, bool Ensemble, int? TopK)
    {
        public override string ToString() =>
            $"case {Number}: {Images.Count} image(s) of {string.Join('/', Images.Select(i => i.Length))} bytes, operatingPoint={OperatingPoint ?? "-"}, " +
            $"maxExit={MaxExit?.ToString() ?? "-"}, fullDepth={FullDepth}, ensemble={Ensemble}, topK={TopK?.ToString() ?? "-"}";
    }

    /// <summary>An answer: its class, exit, the probabilities it lists by class (every class, or the top k), and how many it lists under topK.</summary>
    private sealed record Answer(int ClassIndex, int Exit, IReadOnlyDictionary<int, float> Probabilities, int? TopK);

    /// <summary>Answers in order, or a refusal: its family (invalid, tooLarge), the image it names (if any) and its message without the image's name.</summary>
    private sealed record Outcome(IReadOnlyList<Answer>? Answers, string? Family, int? Index, string? Message)
    {
        public static Outcome Answered(IReadOnlyList<Answer> answers) => new(answers, null, null, null);

        public static Outcome Refused(string family, string message)
        {
            var match = ImagePrefix().Match(message);
            return match.Success
                ? new Outcome(null, family, int.Parse(match.Groups["index"].Value), message[match.Length..].TrimEnd('.'))
                : new Outcome(null, family, null, message.TrimEnd('.'));
        }

        public override string ToString() => Answers is { } a
            ? $"answered [{string.Join(", ", a.Select(x => $"class {x.ClassIndex} exit {x.Exit}"))}]"
            : $"{Family}{(Index is { } i ? $" at image {i}" : "")}: {Message}";
    }

    [GeneratedRegex(@"^Image (?<index>\d+) \([^)]*\): ")]
    private static partial Regex ImagePrefix();

    [Fact]
    public async Task The_same_requests_get_the_same_answers_or_refusals_on_every_front_end()
    {
        var name = _factory.Model().Name;
        var http = _factory.CreateClient();
        var channel = _factory.InMemoryChannel();
        var scan = new ClassificationService.ClassificationServiceClient(channel);
        var inference = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var refusals = new Dictionary<string, int>();

        foreach (var c in Generate(new Random(16), _factory.Model().Manifest.Labels.Count))
        {
            var outcomes = new Dictionary<string, Outcome>
            {
                ["REST /v1"] = await RestAsync(http, c),
                ["gRPC scan.v1"] = await ScanGrpcAsync(scan, c),
            };
            // The protocol has no topK: it answers every class's probability. A case whose topK is refused is left out there.
            if (c.TopK is null or >= 1)
            {
                outcomes["REST /v2"] = await V2RestAsync(http, name, c);
                outcomes["gRPC ModelInfer"] = await V2GrpcAsync(inference, name, c);
            }
            // A stream has no request-level image count: a batch over it is not a stream's to refuse.
            if (c.Images.Count > MaxImages) outcomes.Remove("gRPC scan.v1");

            var (reference, expected) = outcomes.First();
            foreach (var (frontEnd, actual) in outcomes.Skip(1))
                AssertSame(c, reference, expected, frontEnd, actual);
            var key = expected.Answers is null ? $"{expected.Family}: {Regex.Replace(expected.Message!, @"'[^']*'|\d+", "_")}" : "answered";
            refusals[key] = refusals.GetValueOrDefault(key) + 1;
        }

        foreach (var (kind, count) in refusals.OrderByDescending(r => r.Value)) output.WriteLine($"{count,3}  {kind}");
        // The seeded set exercises answers and each kind of refusal.
        Assert.True(refusals.GetValueOrDefault("answered") >= Cases / 4, "too few cases were answered");
        Assert.Contains(refusals.Keys, k => k.StartsWith("tooLarge", StringComparison.Ordinal) && k.Contains("images"));
        Assert.Contains(refusals.Keys, k => k.StartsWith("tooLarge", StringComparison.Ordinal) && k.Contains("bytes"));
        Assert.Contains(refusals.Keys, k => k.StartsWith("invalid", StringComparison.Ordinal) && k.Contains("operating point"));
        Assert.Contains(refusals.Keys, k => k.StartsWith("invalid", StringComparison.Ordinal) && k.Contains("not a PNG"));
    }

    private static void AssertSame(Case c, string referenceName, Outcome reference, string frontEnd, Outcome actual)
    {
        var context = $"{c}\n  {referenceName}: {reference}\n  {frontEnd}: {actual}";
        Assert.True((reference.Answers is null) == (actual.Answers is null), context);
        if (reference.Answers is { } expected)
        {
            var answers = actual.Answers!;
            Assert.True(expected.Count == answers.Count, context);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.True(expected[i].ClassIndex == answers[i].ClassIndex && expected[i].Exit == answers[i].Exit, $"image {i}: {context}");
                foreach (var (k, p) in expected[i].Probabilities)
                {
                    if (answers[i].Probabilities.TryGetValue(k, out var q))
                        Assert.True(Math.Abs(p - q) <= 1e-5f, $"image {i} class {k}: {context}");
                }
                if (expected[i].TopK is { } topK && answers[i].TopK is { } other) Assert.True(topK == other, $"topK of image {i}: {context}");
            }
            return;
        }
        Assert.True(reference.Family == actual.Family, context);
        Assert.True(reference.Index == actual.Index, context);
        Assert.True(string.Equals(reference.Message, actual.Message, StringComparison.Ordinal), context);
    }

    private static IEnumerable<Case> Generate(Random random, int classes)
    {
        var pngs = FashionMnistImages.Take(32);
        var oversized = FashionMnistImages.LargeNoisePng(128);
        Assert.True(oversized.Length > MaxImageBytes && oversized.Length < MaxImageBytes + 60_000, $"the oversized image is {oversized.Length} bytes");
        var undecodable = "not an image, but text"u8.ToArray();
        string?[] points = [null, null, "fast", "balanced", "accurate", "warp-speed"];
        int?[] maxExits = [null, null, null, 1, 2, 3, 4, 0, 9];
        int?[] topKs = [null, null, 1, 3, classes + 10, 0];
        for (var n = 0; n < Cases; n++)
        {
            var count = random.Next(10) switch { < 5 => 1, 9 => MaxImages + 1 + random.Next(3), _ => 2 + random.Next(MaxImages - 1) };
            var images = Enumerable.Range(0, count).Select(_ => random.Next(20) switch
            {
                0 => undecodable,
                1 => oversized,
                _ => pngs[random.Next(pngs.Count)],
            }).ToList();
            yield return new Case(n, images, points[random.Next(points.Length)], maxExits[random.Next(maxExits.Length)],
                random.Next(8) == 0, random.Next(8) == 0, topKs[random.Next(topKs.Length)]);
        }
    }

    private static string Query(Case c, bool withTopK = true)
    {
        var parts = new List<string>();
        if (c.OperatingPoint is { } p) parts.Add($"operatingPoint={p}");
        if (c.MaxExit is { } m) parts.Add($"maxExit={m}");
        if (c.FullDepth) parts.Add("fullDepth=true");
        if (c.Ensemble) parts.Add("ensemble=true");
        if (withTopK && c.TopK is { } k) parts.Add($"topK={k}");
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static async Task<Outcome> RestAsync(HttpClient http, Case c)
    {
        HttpResponseMessage response;
        if (c.Images.Count == 1)
        {
            var body = new ByteArrayContent(c.Images[0]);
            body.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            response = await http.PostAsync("/v1/classify" + Query(c), body);
        }
        else
        {
            var form = new MultipartFormDataContent();
            for (var i = 0; i < c.Images.Count; i++)
            {
                var part = new ByteArrayContent(c.Images[i]);
                part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                form.Add(part, "images", $"image-{i}.png");
            }
            response = await http.PostAsync("/v1/classify/batch" + Query(c), form);
        }
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (!response.IsSuccessStatusCode) return Outcome.Refused(HttpFamily((int)response.StatusCode), (string)json["detail"]!);
        var results = c.Images.Count == 1 ? [json] : json["results"]!.AsArray().Select(r => r!).ToList();
        return Outcome.Answered(results.Select(r =>
        {
            var topK = r["topK"]!.AsArray();
            var probabilities = topK.ToDictionary(t => Int(t!["classIndex"]), t => (float)t!["probability"]!);
            return new Answer(Int(r["classIndex"]), Int(r["exit"]), probabilities, topK.Count);
        }).ToList());
    }

    /// <summary>A JSON integer that a serializer may leave out when it is 0.</summary>
    private static int Int(JsonNode? node) => node is null ? 0 : node.GetValue<int>();

    private static Dictionary<int, float> All(IEnumerable<float> probabilities) =>
        probabilities.Select((p, k) => (p, k)).ToDictionary(x => x.k, x => x.p);

    private static async Task<Outcome> V2RestAsync(HttpClient http, string model, Case c)
    {
        var parameters = new JsonObject();
        if (c.OperatingPoint is { } p) parameters["operating_point"] = p;
        if (c.MaxExit is { } m) parameters["max_exit"] = m;
        if (c.FullDepth) parameters["full_depth"] = true;
        if (c.Ensemble) parameters["ensemble"] = true;
        var request = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image",
                ["shape"] = new JsonArray(c.Images.Count),
                ["datatype"] = "BYTES",
                ["data"] = new JsonArray(c.Images.Select(i => (JsonNode)Convert.ToBase64String(i)).ToArray()),
            }),
            ["parameters"] = parameters,
        };
        var response = await http.PostAsJsonAsync($"/v2/models/{model}/infer", request);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (!response.IsSuccessStatusCode) return Outcome.Refused(HttpFamily((int)response.StatusCode), (string)json["error"]!);
        var outputs = json["outputs"]!.AsArray().ToDictionary(o => (string)o!["name"]!, o => o!["data"]!.AsArray());
        var classes = outputs["probabilities"].Count / c.Images.Count;
        return Outcome.Answered(Enumerable.Range(0, c.Images.Count).Select(i => new Answer(
            (int)(long)outputs["class_index"][i]!, (int)(long)outputs["exit_index"][i]!,
            All(outputs["probabilities"].Skip(i * classes).Take(classes).Select(v => (float)v!)), null)).ToList());
    }

    private static async Task<Outcome> ScanGrpcAsync(ClassificationService.ClassificationServiceClient client, Case c)
    {
        var options = new ClassifyOptions { OperatingPoint = c.OperatingPoint ?? "", FullDepth = c.FullDepth, Ensemble = c.Ensemble };
        if (c.MaxExit is { } m) options.MaxExit = m;
        if (c.TopK is { } k) options.TopK = k;
        if (c.Images.Count == 1)
        {
            try
            {
                var answer = await client.ClassifyAsync(GrpcTestServer.Request("one", c.Images[0], options));
                return Outcome.Answered([ToAnswer(answer.Classification)]);
            }
            catch (RpcException e)
            {
                return Outcome.Refused(GrpcFamily(e.StatusCode), e.Status.Detail);
            }
        }
        // A batch over gRPC is a stream: each item answered or refused on its own. It agrees with a batch front end when
        // every item is answered alike, or when the batch's refusal is what its items got, in the order a batch checks:
        // an image over the size limit first, then the options (every item gets that error), then the first image that
        // does not decode. The image's own faults are the decoder's and the size check's messages ("The ...").
        var items = await ClassifyStreamTests.ExchangeAsync(client, c.Images.Select((image, i) => GrpcTestServer.Request($"{i}", image, options)));
        var byIndex = items.OrderBy(a => int.Parse(a.Id)).ToList();
        var errors = byIndex.Where(a => a.OutcomeCase == ClassifyStreamResponse.OutcomeOneofCase.Error).ToList();
        if (errors.Count == 0) return Outcome.Answered(byIndex.Select(a => ToAnswer(a.Result)).ToList());
        static bool ImageFault(ClassifyStreamResponse a) => a.Error.Message.StartsWith("The ", StringComparison.Ordinal);
        var first = errors.FirstOrDefault(a => a.Error.Message.Contains("one image may have at most", StringComparison.Ordinal))
            ?? errors.FirstOrDefault(a => !ImageFault(a))
            ?? errors[0];
        var refused = Outcome.Refused(GrpcFamily((StatusCode)first.Error.Code), first.Error.Message);
        var index = int.Parse(first.Id);
        // A batch names an image over the size limit in its message ("Image i is N bytes") and one that does not decode
        // in a prefix ("Image i (its name): ...", which Outcome takes apart).
        if (first.Error.Message.StartsWith("The image is ", StringComparison.Ordinal)) return refused with { Message = WithoutBatchWording(refused.Message!, index) };
        return ImageFault(first) ? refused with { Index = index } : refused;
    }

    /// <summary>A single image's "The image is N bytes" is "Image i is N bytes" in a batch.</summary>
    private static string WithoutBatchWording(string message, int index) =>
        message.StartsWith("The image is ", StringComparison.Ordinal) ? $"Image {index} is " + message["The image is ".Length..] : message;

    private static async Task<Outcome> V2GrpcAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, Case c)
    {
        var request = new ModelInferRequest { ModelName = model };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor
        {
            Name = "image",
            Datatype = "BYTES",
            Shape = { c.Images.Count },
            Contents = new InferTensorContents { BytesContents = { c.Images.Select(ByteString.CopyFrom) } },
        });
        if (c.OperatingPoint is { } p) request.Parameters["operating_point"] = new InferParameter { StringParam = p };
        if (c.MaxExit is { } m) request.Parameters["max_exit"] = new InferParameter { Int64Param = m };
        if (c.FullDepth) request.Parameters["full_depth"] = new InferParameter { BoolParam = true };
        if (c.Ensemble) request.Parameters["ensemble"] = new InferParameter { BoolParam = true };
        try
        {
            var response = await client.ModelInferAsync(request);
            var outputs = response.Outputs.ToDictionary(o => o.Name, o => o.Contents);
            var classes = outputs["probabilities"].Fp32Contents.Count / c.Images.Count;
            return Outcome.Answered(Enumerable.Range(0, c.Images.Count).Select(i => new Answer(
                (int)outputs["class_index"].Int64Contents[i], (int)outputs["exit_index"].Int64Contents[i],
                All(outputs["probabilities"].Fp32Contents.Skip(i * classes).Take(classes)), null)).ToList());
        }
        catch (RpcException e)
        {
            return Outcome.Refused(GrpcFamily(e.StatusCode), e.Status.Detail);
        }
    }

    private static Answer ToAnswer(Classification c) =>
        new(c.ClassIndex, c.Exit, c.TopK.ToDictionary(t => t.ClassIndex, t => t.Probability), c.TopK.Count);

    private static string HttpFamily(int status) => status switch
    {
        400 => "invalid",
        413 => "tooLarge",
        _ => $"HTTP {status}",
    };

    private static string GrpcFamily(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => "invalid",
        StatusCode.ResourceExhausted => "tooLarge",
        _ => $"gRPC {code}",
    };
}
