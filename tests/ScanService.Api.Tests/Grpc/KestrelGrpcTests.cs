using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Grpc;

/// <summary>The service on Kestrel over loopback: real sockets, HTTP/2 with prior knowledge on a cleartext port.</summary>
public sealed class KestrelGrpcTests : IDisposable
{
    private readonly ScanApiFactory _factory = new();
    private readonly GrpcChannel _channel;

    public KestrelGrpcTests() => _channel = GrpcChannel.ForAddress(_factory.StartOnKestrel());

    public void Dispose()
    {
        _channel.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task Classify_answers_over_HTTP2()
    {
        var png = FashionMnistImages.Take(1)[0];
        var client = new ClassificationService.ClassificationServiceClient(_channel);

        var response = await client.ClassifyAsync(Request("kestrel", png));

        var expected = _factory.Model().EngineAnswer(png, InferenceOptions.Default);
        Assert.Equal("kestrel", response.Id);
        Assert.Equal(expected.ClassIndex, response.Classification.ClassIndex);
        Assert.Equal(expected.Exit, response.Classification.Exit);
    }

    [Fact]
    public async Task A_stream_over_HTTP2_answers_every_item()
    {
        var client = new ClassificationService.ClassificationServiceClient(_channel);
        var images = FashionMnistImages.Take(8);
        var unary = await ClassifyStreamTests.UnaryAnswersAsync(client, images, null);

        var answers = await ClassifyStreamTests.ExchangeAsync(client, Enumerable.Range(0, 200).Select(i => Request($"{i}", images[i % images.Count])));

        Assert.Equal(200, answers.Select(a => a.Id).Distinct().Count());
        Assert.All(answers, a => Assert.Equal(unary[int.Parse(a.Id) % images.Count], a.Result));
    }

    [Theory]
    [InlineData("scan.v1.ClassificationService", "Reclassify")]
    [InlineData("scan.v9.NoSuchService", "Classify")]
    public async Task An_unknown_method_or_service_is_UNIMPLEMENTED(string service, string method)
    {
        var unknown = new Method<HealthCheckRequest, HealthCheckResponse>(MethodType.Unary, service, method,
            Marshallers.Create(r => r.ToByteArray(), HealthCheckRequest.Parser.ParseFrom),
            Marshallers.Create(r => r.ToByteArray(), HealthCheckResponse.Parser.ParseFrom));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, new CallOptions(), new HealthCheckRequest()));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task Health_answers_over_HTTP2()
    {
        var response = await new Health.HealthClient(_channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }
}
