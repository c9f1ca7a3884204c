using Google.Protobuf;
using Grpc.Core;
using ScanService.Protocols.Scan.V1;
using ExitMode = ScanService.Protocols.Scan.V1.ExitMode;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Grpc;

public sealed class ClassifyTests : IDisposable
{
    private readonly ScanApiFactory _factory = new();
    private readonly ClassificationService.ClassificationServiceClient _client;

    public ClassifyTests() => _client = new ClassificationService.ClassificationServiceClient(_factory.InMemoryChannel());

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Classify_answers_as_the_engine_does_with_everything_the_answer_carries()
    {
        var model = _factory.Model();
        foreach (var (png, i) in FashionMnistImages.Take(8).Select((p, i) => (p, i)))
        {
            var response = await _client.ClassifyAsync(Request($"image-{i}", png, new ClassifyOptions { TopK = 3 }));

            var expected = model.EngineAnswer(png, InferenceOptions.Default);
            var answer = response.Classification;
            Assert.Equal($"image-{i}", response.Id);
            Assert.Equal(expected.ClassIndex, answer.ClassIndex);
            Assert.Equal(model.Manifest.Labels[expected.ClassIndex], answer.Label);
            Assert.Equal(expected.Confidence, answer.Confidence, 5);
            Assert.Equal(expected.Exit, answer.Exit);
            Assert.Equal(model.Engine.ExitCount, answer.ExitCount);
            Assert.Equal(model.Manifest.DefaultOperatingPoint ?? "", answer.OperatingPoint);
            Assert.Equal(ExitMode.EarlyExit, answer.ExitMode);
            Assert.Equal(model.Name, answer.ModelName);
            Assert.Equal(model.Version, answer.ModelVersion);
            Assert.Equal(3, answer.TopK.Count);
            Assert.Equal(answer.ClassIndex, answer.TopK[0].ClassIndex);
            Assert.True(answer.TopK[0].Probability >= answer.TopK[1].Probability && answer.TopK[1].Probability >= answer.TopK[2].Probability);
        }
    }

    [Fact]
    public async Task Options_reach_the_engine()
    {
        var model = _factory.Model();
        var png = FashionMnistImages.Take(1)[0];

        var capped = await _client.ClassifyAsync(Request("a", png, new ClassifyOptions { MaxExit = 1 }));
        var full = await _client.ClassifyAsync(Request("b", png, new ClassifyOptions { FullDepth = true }));
        var ensemble = await _client.ClassifyAsync(Request("c", png, new ClassifyOptions { Ensemble = true }));

        Assert.Equal(1, capped.Classification.Exit);
        Assert.Equal(model.Engine.ExitCount, full.Classification.Exit);
        Assert.Equal(ExitMode.FullDepth, full.Classification.ExitMode);
        Assert.Equal("", full.Classification.OperatingPoint);
        Assert.Equal(ExitMode.Ensemble, ensemble.Classification.ExitMode);
        Assert.Equal(model.EngineAnswer(png, new InferenceOptions { Ensemble = true }).ClassIndex, ensemble.Classification.ClassIndex);
    }

    [Fact]
    public async Task Top_k_defaults_to_five_as_over_REST_and_a_large_one_lists_every_class()
    {
        var png = FashionMnistImages.Take(1)[0];

        var unset = await _client.ClassifyAsync(Request("a", png));
        var one = await _client.ClassifyAsync(Request("b", png, new ClassifyOptions { TopK = 1 }));
        var all = await _client.ClassifyAsync(Request("c", png, new ClassifyOptions { TopK = 1000 }));

        Assert.Equal(ScanService.Api.Serving.RequestOptions.DefaultTopK, unset.Classification.TopK.Count);
        Assert.Equal(unset.Classification.ClassIndex, Assert.Single(one.Classification.TopK).ClassIndex);
        Assert.Equal(_factory.Model().Manifest.Labels.Count, all.Classification.TopK.Count);
    }

    [Theory]
    [InlineData("undecodable image")]
    [InlineData("empty image")]
    [InlineData("unknown operating point")]
    [InlineData("max exit zero")]
    [InlineData("max exit past the last")]
    [InlineData("full depth with ensemble")]
    [InlineData("negative top k")]
    [InlineData("zero top k")]
    [InlineData("operating point with ensemble")]
    [InlineData("operating point with full depth")]
    public async Task Bad_input_fails_with_INVALID_ARGUMENT(string bad)
    {
        var request = BadRequest(bad);

        var error = await Assert.ThrowsAsync<RpcException>(() => _client.ClassifyAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
    }

    /// <summary>One request wrong in one way; the stream tests send the same.</summary>
    internal static ClassifyRequest BadRequest(string bad, string id = "x")
    {
        var png = FashionMnistImages.Take(1)[0];
        return bad switch
        {
            "undecodable image" => Request(id, "not an image"u8.ToArray()),
            "empty image" => Request(id, []),
            "unknown operating point" => Request(id, png, new ClassifyOptions { OperatingPoint = "no-such-point" }),
            "max exit zero" => Request(id, png, new ClassifyOptions { MaxExit = 0 }),
            "max exit past the last" => Request(id, png, new ClassifyOptions { MaxExit = 99 }),
            "full depth with ensemble" => Request(id, png, new ClassifyOptions { FullDepth = true, Ensemble = true }),
            "negative top k" => Request(id, png, new ClassifyOptions { TopK = -1 }),
            "zero top k" => Request(id, png, new ClassifyOptions { TopK = 0 }),
            "operating point with ensemble" => Request(id, png, new ClassifyOptions { OperatingPoint = "fast", Ensemble = true }),
            "operating point with full depth" => Request(id, png, new ClassifyOptions { OperatingPoint = "fast", FullDepth = true }),
            _ => throw new ArgumentOutOfRangeException(nameof(bad), bad, null),
        };
    }

    [Theory]
    [InlineData(8192, "one image may have at most 4096 bytes")]
    [InlineData(100_000, "")]
    public async Task An_image_over_the_limit_fails_with_RESOURCE_EXHAUSTED_whether_the_service_or_the_transport_refuses_it(int bytes, string message)
    {
        // Past MaxRequestBodyBytes the service refuses the image; past MaxBatchRequestBodyBytes gRPC cannot read the message.
        using var factory = new ScanApiFactory().With("Limits:MaxBatchRequestBodyBytes", "16384").With("Limits:MaxRequestBodyBytes", "4096");
        var client = new ClassificationService.ClassificationServiceClient(factory.InMemoryChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.ClassifyAsync(new ClassifyRequest { Id = "big", Image = ByteString.CopyFrom(new byte[bytes]) }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
    }
}
