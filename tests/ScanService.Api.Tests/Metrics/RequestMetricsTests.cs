using System.Net.Http.Headers;
using Grpc.Core;
using ScanService.Protocols.Scan.V1;
using static ScanService.Api.Tests.Grpc.GrpcTestServer;

namespace ScanService.Api.Tests.Metrics;

/// <summary>Every request to a front end is timed once, labelled with the front end and how it ended; probes are not.</summary>
[Collection(MetricsCollection.Name)]
public sealed class RequestMetricsTests
{
    private const string Duration = "scan_request_duration_seconds_count";

    [Fact]
    public async Task Requests_are_counted_by_front_end_and_outcome()
    {
        using var factory = new ScanApiFactory().With("Metrics:AgreementSampleRate", "0");
        using var client = factory.CreateClient();
        var grpc = new ClassificationService.ClassificationServiceClient(factory.InMemoryChannel());
        var png = FashionMnistTestSet.Pngs(1)[0];
        var model = factory.Model();

        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.OK, await PostImageAsync(client, png));
        Assert.Equal(HttpStatusCode.BadRequest, await PostImageAsync(client, [1, 2, 3]));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, $"/v2/models/{model.Name}"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, "/v2/models/no-such-model"));
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/v2/health/ready"));
        await grpc.ClassifyAsync(Request("ok", png));
        var invalid = await Assert.ThrowsAsync<RpcException>(() => grpc.ClassifyAsync(Request("bad", [1, 2, 3])).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);

        var metrics = await PrometheusExposition.ScrapeAsync(client);

        Assert.Equal(2, metrics.Value(Duration, ("front_end", "rest"), ("outcome", "ok")));
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "rest"), ("outcome", "client_error")));
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "v2"), ("outcome", "ok")));
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "v2"), ("outcome", "client_error")));
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "grpc"), ("outcome", "ok")));
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "grpc"), ("outcome", "client_error")));
        Assert.Equal(7, metrics.Series(Duration).Sum(s => s.Value));
    }

    [Fact]
    public async Task Without_a_model_requests_end_unavailable()
    {
        using var factory = new ScanApiFactory().With("Model:BundlePath", Path.Combine(RepositoryPaths.Root, "models", "no-such-bundle"));
        using var client = factory.CreateClient();
        var grpc = new ClassificationService.ClassificationServiceClient(factory.InMemoryChannel());
        var png = FashionMnistTestSet.Pngs(1)[0];

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PostImageAsync(client, png));
        var unavailable = await Assert.ThrowsAsync<RpcException>(() => grpc.ClassifyAsync(Request("x", png)).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);

        var metrics = await PrometheusExposition.ScrapeAsync(client);
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "rest"), ("outcome", "unavailable")));
        Assert.Equal(1, metrics.Value(Duration, ("front_end", "grpc"), ("outcome", "unavailable")));
    }

    private static async Task<HttpStatusCode> PostImageAsync(HttpClient client, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync("/v1/classify", content);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }
}
