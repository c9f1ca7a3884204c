
namespace ScanService.Api.Tests.Rest;

/// <summary>The app pointed at a bundle folder that does not exist: up, live, never ready.</summary>
public sealed class MissingBundleFactory : ScanApiFactory
{
    public static readonly string MissingPath = Path.Combine(RepositoryPaths.Root, "models", "no-such-bundle");

    public MissingBundleFactory() => With("Model:BundlePath", MissingPath);
}

/// <summary>Without a model the service still answers liveness; everything that needs the model is 503.</summary>
public class ModelNotLoadedTests(MissingBundleFactory factory) : IClassFixture<MissingBundleFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Liveness_is_200()
    {
        using var response = await _client.GetAsync("/v2/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readiness_is_503()
    {
        using var response = await _client.GetAsync("/v2/health/ready");
        await AssertProtocolErrorAsync(response, HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Classify_is_a_503_problem_that_does_not_reveal_the_bundle_path()
    {
        using var response = await _client.PostAsync("/v1/classify", Raw(FashionMnistImages.Png(0), "image/png"));
        var problem = await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.DoesNotContain("no-such-bundle", problem.GetRawText());
    }

    [Fact]
    public async Task Batch_and_model_summary_are_503_problems()
    {
        using var batch = await _client.PostAsync("/v1/classify/batch", Form(("images", "0.png", FashionMnistImages.Png(0))));
        await AssertProblemAsync(batch, HttpStatusCode.ServiceUnavailable);
        using var model = await _client.GetAsync("/v1/model");
        await AssertProblemAsync(model, HttpStatusCode.ServiceUnavailable);
    }

    [Theory]
    [InlineData("/v2/models/fashion-mnist-scan")]
    [InlineData("/v2/models/fashion-mnist-scan/ready")]
    public async Task Model_metadata_and_readiness_are_503_protocol_errors(string path)
    {
        using var response = await _client.GetAsync(path);
        await AssertProtocolErrorAsync(response, HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Inference_is_a_503_protocol_error()
    {
        var request = new { inputs = new[] { new { name = "input", datatype = "FP32", shape = new[] { 1, 1, 28, 28 }, data = new float[784] } } };
        using var response = await _client.PostAsync("/v2/models/fashion-mnist-scan/infer", JsonContent.Create(request));
        await AssertProtocolErrorAsync(response, HttpStatusCode.ServiceUnavailable);
    }
}
