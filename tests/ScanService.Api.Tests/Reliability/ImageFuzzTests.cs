using System.Diagnostics;
using Grpc.Core;
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;
using ScanService.Core.Preprocessing;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Reliability;

/// <summary>
/// Mutated real images through the service's own preprocessing, and one in eight of them through POST /v1/classify
/// and through gRPC (scan.v1 Classify and the protocol's ModelInfer, in turn): no crash, no hang, and no outcome but a
/// decoded image or a documented <see cref="ImageDecodeException"/> (a 400 problem with its reason over HTTP,
/// INVALID_ARGUMENT with the same message over gRPC).
/// </summary>
public class ImageFuzzTests(ScanApiFactory factory, ITestOutputHelper output) : IClassFixture<ScanApiFactory>
{
    private const int Seed = 20_240_611;
    private const int MaxInputs = 2000;
    private const int EveryNthOverHttp = 8;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);
    /// <summary>Far above the slowest legitimate decode (a 40-megapixel header filled in by the decoder takes well under a second).</summary>
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Mutated_images_are_decoded_or_refused_with_a_documented_error_never_anything_else()
    {
        using var client = factory.CreateClient();
        var channel = Grpc.GrpcTestServer.InMemoryChannel(factory);
        var scan = new ClassificationService.ClassificationServiceClient(channel);
        var inference = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var good = await CorpusChecks.GoodAnswerAsync(client);
        var model = factory.Model();
        var mutator = new ImageMutator(Seed);
        var outcomes = new Dictionary<string, int>();
        var overHttp = 0;
        var slowest = TimeSpan.Zero;
        var started = Stopwatch.StartNew();

        var count = 0;
        while (count < MaxInputs && started.Elapsed < Budget)
        {
            var input = mutator.Next();
            count++;
            var timer = Stopwatch.StartNew();
            var error = await PreprocessAsync(model, input);
            slowest = timer.Elapsed > slowest ? timer.Elapsed : slowest;
            var outcome = error is null ? "decoded" : Reason(error.Error);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

            if (input.Number % EveryNthOverHttp == 0)
            {
                await AssertHttpAgreesAsync(client, input, error);
                if (input.Number / EveryNthOverHttp % 2 == 0) await AssertScanGrpcAgreesAsync(scan, input, error);
                else await AssertModelInferAgreesAsync(inference, model.Name, input, error);
                overHttp++;
            }
        }

        // Whatever the inputs did, the service answers a good image as before.
        Assert.Equal(good, await CorpusChecks.GoodAnswerAsync(client));
        await CorpusChecks.AssertLiveAsync(client);
        output.WriteLine($"{count} mutated inputs in {started.Elapsed.TotalSeconds:F1} s (seed {Seed}), {overHttp} of them also over HTTP and gRPC; slowest {slowest.TotalMilliseconds:F0} ms");
        foreach (var (outcome, n) in outcomes.OrderByDescending(o => o.Value)) output.WriteLine($"  {outcome}: {n}");
        Assert.True(count >= 200, $"only {count} inputs ran in {Budget.TotalSeconds} s: the fuzz proves little");
    }

    /// <summary>Null when the input decoded; its documented error otherwise. Anything else fails, naming the input.</summary>
    private static async Task<ImageDecodeException?> PreprocessAsync(LoadedModel model, FuzzInput input)
    {
        var work = Task.Run(() =>
        {
            var destination = new float[model.Preprocessor.ValuesPerSample];
            model.Preprocessor.Preprocess(input.Data, destination);
            Assert.All(destination, v => Assert.True(float.IsFinite(v)));
        });
        try
        {
            await work.WaitAsync(PerInput);
            return null;
        }
        catch (ImageDecodeException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            AssertNothingInternal(e.Message);
            return e;
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}) did not finish in {PerInput.TotalSeconds} s; saved to {Save(input)}");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}) threw {e.GetType().Name}: {e.Message}; saved to {Save(input)}");
        }
    }

    private static async Task AssertHttpAgreesAsync(HttpClient client, FuzzInput input, ImageDecodeException? direct)
    {
        using var timeout = new CancellationTokenSource(PerInput);
        using var response = await client.PostAsync("/v1/classify", Raw(input.Data, "application/octet-stream"), timeout.Token);
        var body = await response.Content.ReadAsStringAsync(timeout.Token);
        AssertNothingInternal(body);
        var expected = direct is null ? HttpStatusCode.OK : HttpStatusCode.BadRequest;
        if (response.StatusCode != expected)
            throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}): HTTP {(int)response.StatusCode}, the preprocessor gave {(direct is null ? "an image" : direct.Error)}: {body}");
        if (direct is not null)
            Assert.Equal(Reason(direct.Error), JsonSerializer.Deserialize<JsonElement>(body).GetProperty("reason").GetString());
    }

    private static async Task AssertScanGrpcAgreesAsync(ClassificationService.ClassificationServiceClient client, FuzzInput input, ImageDecodeException? direct)
    {
        try
        {
            await client.ClassifyAsync(Grpc.GrpcTestServer.Request($"{input.Number}", input.Data), deadline: DateTime.UtcNow + PerInput);
            if (direct is not null) throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}): gRPC answered, the preprocessor gave {direct.Error}");
        }
        catch (RpcException e) when (direct is not null && e.StatusCode == StatusCode.InvalidArgument)
        {
            // An empty input is refused before decoding, with gRPC's own wording.
            if (direct.Error != ImageDecodeError.Empty) Assert.Equal(direct.Message, e.Status.Detail);
        }
        catch (RpcException e)
        {
            throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}): gRPC {e.StatusCode} ({e.Status.Detail}), the preprocessor gave {(direct is null ? "an image" : direct.Error)}");
        }
    }

    private static async Task AssertModelInferAgreesAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, FuzzInput input, ImageDecodeException? direct)
    {
        var request = new ModelInferRequest { ModelName = model };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor
        {
            Name = "image", Datatype = "BYTES", Shape = { 1 },
            Contents = new InferTensorContents { BytesContents = { Google.Protobuf.ByteString.CopyFrom(input.Data) } },
        });
        try
        {
            await client.ModelInferAsync(request, deadline: DateTime.UtcNow + PerInput);
            if (direct is not null) throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}): ModelInfer answered, the preprocessor gave {direct.Error}");
        }
        catch (RpcException e) when (direct is not null && e.StatusCode == StatusCode.InvalidArgument)
        {
            Assert.EndsWith(direct.Message, e.Status.Detail);
        }
        catch (RpcException e)
        {
            throw new Xunit.Sdk.XunitException($"input {input.Number} ({input.Recipe}): ModelInfer {e.StatusCode} ({e.Status.Detail}), the preprocessor gave {(direct is null ? "an image" : direct.Error)}");
        }
    }

    /// <summary>The problem's <c>reason</c> for each kind, as ScanExceptionHandler writes it.</summary>
    private static string Reason(ImageDecodeError error) => error switch
    {
        ImageDecodeError.Empty => "empty",
        ImageDecodeError.UnsupportedFormat => "unsupportedFormat",
        ImageDecodeError.Corrupt => "corrupt",
        ImageDecodeError.TooManyPixels => "tooManyPixels",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "an ImageDecodeError the service does not document"),
    };

    private static string Save(FuzzInput input)
    {
        var path = Path.Combine(Path.GetTempPath(), $"scan-fuzz-{Seed}-{input.Number}.bin");
        File.WriteAllBytes(path, input.Data);
        return path;
    }
}
