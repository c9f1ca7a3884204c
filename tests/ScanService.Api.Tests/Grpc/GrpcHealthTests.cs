using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using ScanService.Protocols.OpenInference;
using ScanService.Protocols.Scan.V1;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Grpc;

public sealed class GrpcHealthTests
{
    private static ScanApiFactory WithoutBundle() =>
        new ScanApiFactory().With("Model:BundlePath", Path.Combine(Path.GetTempPath(), "no-such-bundle"));

    [Theory]
    [InlineData("")]
    [InlineData("scan.v1.ClassificationService")]
    [InlineData("inference.GRPCInferenceService")]
    public async Task Health_is_SERVING_once_the_model_is_loaded(string service)
    {
        using var factory = new ScanApiFactory();
        var health = new Health.HealthClient(factory.InMemoryChannel());

        var response = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("scan.v1.ClassificationService")]
    public async Task Health_is_NOT_SERVING_when_the_bundle_is_missing(string service)
    {
        using var factory = WithoutBundle();
        var health = new Health.HealthClient(factory.InMemoryChannel());

        var response = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, response.Status);
    }

    [Fact]
    public async Task Calls_fail_with_UNAVAILABLE_while_no_model_is_loaded()
    {
        using var factory = WithoutBundle();
        var channel = factory.InMemoryChannel();
        var scan = new ClassificationService.ClassificationServiceClient(channel);
        var inference = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var classify = await Assert.ThrowsAsync<RpcException>(() => scan.ClassifyAsync(Request("a", FashionMnistImages.Take(1)[0])).ResponseAsync);
        var infer = await Assert.ThrowsAsync<RpcException>(() => inference.ModelInferAsync(new ModelInferRequest { ModelName = "fashion-mnist-scan" }).ResponseAsync);
        var ready = await inference.ServerReadyAsync(new ServerReadyRequest());
        var live = await inference.ServerLiveAsync(new ServerLiveRequest());

        Assert.Equal(StatusCode.Unavailable, classify.StatusCode);
        Assert.Equal(StatusCode.Unavailable, infer.StatusCode);
        Assert.False(ready.Ready);
        Assert.True(live.Live);
    }

    [Fact]
    public async Task Reflection_lists_every_service()
    {
        using var factory = new ScanApiFactory();
        var reflection = new ServerReflection.ServerReflectionClient(factory.InMemoryChannel());
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("scan.v1.ClassificationService", services);
        Assert.Contains("inference.GRPCInferenceService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }
}
