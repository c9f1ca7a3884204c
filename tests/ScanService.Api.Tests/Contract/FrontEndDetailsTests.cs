using Grpc.Health.V1;
using Grpc.Net.Client;
using ScanService.Api.Tests.Metrics;
using ScanService.Api.Tests.Rest;

namespace ScanService.Api.Tests.Contract;

/// <summary>The smaller parts of the front ends' contract: wording of refusals, surplus and conflicting input, probes.</summary>
public sealed class FrontEndDetailsTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    [Theory]
    [InlineData("?ensemble=true&operatingPoint=fast", "cannot be combined with ensemble")]
    [InlineData("?fullDepth=true&operatingPoint=accurate", "cannot be combined with fullDepth")]
    [InlineData("?topK=0", "topK must be at least 1")]
    public async Task Conflicting_options_are_refused_with_400_and_say_why(string query, string why)
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/classify" + query, Raw(FashionMnistImages.Png(0), "image/png"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(why, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_empty_operating_point_means_the_default_as_over_gRPC()
    {
        using var client = factory.CreateClient();

        var empty = await client.ClassifyAsync(FashionMnistImages.Png(0), "?operatingPoint=");
        var absent = await client.ClassifyAsync(FashionMnistImages.Png(0));

        Assert.Equal(absent.OperatingPoint, empty.OperatingPoint);
        Assert.Equal(factory.Model().Manifest.DefaultOperatingPoint, empty.OperatingPoint);
    }

    [Fact]
    public async Task A_second_image_part_on_the_single_image_route_is_refused_not_ignored()
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/classify",
            Form(("image", "a.png", FashionMnistImages.Png(0)), ("image", "b.png", FashionMnistImages.Png(1))));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("POST /v1/classify/batch", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("?maxExit=deep", "Query parameter 'maxExit' must be an integer; got 'deep'.")]
    [InlineData("?fullDepth=maybe", "Query parameter 'fullDepth' must be true or false; got 'maybe'.")]
    public async Task A_query_value_that_does_not_parse_is_named_without_dotnet_types(string query, string detail)
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/classify" + query, Raw(FashionMnistImages.Png(0), "image/png"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("Nullable", problem.GetRawText());
    }

    [Fact]
    public async Task A_valid_png_wider_than_the_decoder_reads_is_called_too_large_not_corrupt()
    {
        // 40,000,000 x 1 is within the pixel limit, but past libpng's 1,000,000 pixels per side.
        var row = new byte[40_000_000];
        var png = PngChunks.Write(("IHDR", PngChunks.Ihdr(40_000_000, 1, 8, 0)), ("IDAT", PngChunks.Idat([row])), ("IEND", []));
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/classify", Raw(png, "image/png"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("tooManyPixels", problem.GetProperty("reason").GetString());
        Assert.Equal("The image is too large to decode", problem.GetProperty("title").GetString());
        Assert.Contains("40000000x1", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Health_routes_answer_HEAD_as_GET_without_a_body()
    {
        using var client = factory.CreateClient();
        foreach (var route in new[] { "/v2/health/live", "/v2/health/ready" })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, route));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }
}

/// <summary>The published service finds its configuration wherever it is started from, and starts on CPU without an error line.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ServiceStartTests
{
    [Fact]
    public async Task Started_from_another_folder_without_a_content_root_it_reads_its_own_appsettings()
    {
        var elsewhere = Directory.CreateTempSubdirectory("scan-elsewhere-");
        try
        {
            using var service = await ServiceProcess.StartAsync(ServiceUnderTest.Dll, RepositoryPaths.DefaultBundle, workingDirectory: elsewhere.FullName, passContentRoot: false);

            // Only appsettings.json makes the gRPC endpoint HTTP/2-only, which a cleartext gRPC client needs.
            using var channel = GrpcChannel.ForAddress(service.Grpc);
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Auto_on_a_machine_without_CUDA_says_once_at_information_level_which_provider_runs()
    {
        if (ScanService.Core.Inference.OnnxSessions.MissingCudaLibrary() is null) return; // a CUDA machine: nothing to check here

        using var service = await ServiceProcess.StartAsync(ServiceUnderTest.Dll, RepositoryPaths.DefaultBundle, executionProvider: "Auto");

        var lines = service.Output.Split('\n');
        // ONNX Runtime's error lines start "[E:", ASP.NET Core's console logger writes "fail:".
        Assert.DoesNotContain(lines, l => l.Contains("[E:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("CUDA not available", StringComparison.Ordinal));
    }
}
