using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ScanService.Api.Tests.Rest;

/// <summary>The app on real Kestrel, on a free loopback port, with a small body limit.</summary>
public sealed class KestrelScanApiFactory : ScanApiFactory
{
    public const int SingleBytes = 4096;

    public KestrelScanApiFactory()
    {
        // appsettings.json binds 0.0.0.0:8080 (REST) and 0.0.0.0:8081 (gRPC); the test takes free loopback
        // ports instead, choosing the REST one itself so it can tell the two endpoints apart.
        _httpPort = LoopbackPort.Free();
        With("Kestrel:Endpoints:Http:Url", $"http://127.0.0.1:{_httpPort}");
        With("Kestrel:Endpoints:Grpc:Url", "http://127.0.0.1:0");
        With("Limits:MaxRequestBodyBytes", SingleBytes.ToString());
        UseKestrel();
    }

    /// <summary>The address Kestrel actually listens on.</summary>
    public Uri Address
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.Single(a => new Uri(a).Port == _httpPort));
        }
    }

    private readonly int _httpPort;
}

/// <summary>Over real sockets: what TestServer cannot show (Kestrel's own body limit, HTTP parsing).</summary>
public class KestrelTests(KestrelScanApiFactory factory) : IClassFixture<KestrelScanApiFactory>
{
    [Fact]
    public async Task Classifies_an_image_over_loopback_http()
    {
        using var http = new HttpClient { BaseAddress = factory.Address };
        Assert.True(http.BaseAddress!.IsLoopback);
        Assert.NotEqual(8080, http.BaseAddress.Port);

        using var live = await http.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var answer = await http.ClassifyAsync(await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.Root, "samples", "sneaker-t10k-0009.png")));
        Assert.Equal(answer.Model.Name, factory.Model().Name);
        Assert.InRange(answer.Exit, 1, answer.ExitCount);
    }

    [Fact]
    public async Task Kestrel_refuses_a_body_past_the_endpoints_limit_with_a_413_problem()
    {
        using var http = new HttpClient { BaseAddress = factory.Address };
        var body = new byte[KestrelScanApiFactory.SingleBytes * 2];
        FashionMnistImages.Png(0).CopyTo(body, 0);
        using var response = await http.PostAsync("/v1/classify", Raw(body, "image/png"));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }
}
