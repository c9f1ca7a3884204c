
namespace ScanService.Api.Tests.Rest;

/// <summary>GET /v1/model: the manifest in summary.</summary>
public class ModelApiTests(ScanApiFactory factory) : IClassFixture<ScanApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Summary_reports_the_manifests_identity_input_and_labels()
    {
        var json = await OkJsonAsync<JsonElement>(await _client.GetAsync("/v1/model"));
        var manifest = factory.Model().Manifest;

        Assert.Equal(manifest.Model.Name, json.GetProperty("name").GetString());
        Assert.Equal(manifest.Model.Version, json.GetProperty("version").GetString());
        Assert.Equal(manifest.Labels, json.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!));
        var input = json.GetProperty("input");
        Assert.Equal((manifest.Input.Channels, manifest.Input.Height, manifest.Input.Width),
            (input.GetProperty("channels").GetInt32(), input.GetProperty("height").GetInt32(), input.GetProperty("width").GetInt32()));
        Assert.Equal("grayscale", input.GetProperty("colorMode").GetString());
        Assert.Equal(manifest.Input.Mean, input.GetProperty("mean").EnumerateArray().Select(m => m.GetSingle()));
        Assert.Equal(manifest.Input.Std, input.GetProperty("std").EnumerateArray().Select(m => m.GetSingle()));
    }

    [Fact]
    public async Task Summary_lists_every_exit_with_its_cumulative_cost_relative_to_full_depth()
    {
        var json = await OkJsonAsync<JsonElement>(await _client.GetAsync("/v1/model"));
        var manifest = factory.Model().Manifest;
        var exits = json.GetProperty("exits").EnumerateArray().ToList();

        Assert.Equal(manifest.Exits.Count, exits.Count);
        for (var k = 0; k < exits.Count; k++)
        {
            Assert.Equal(k + 1, exits[k].GetProperty("index").GetInt32());
            Assert.Equal(manifest.Exits[k].CumulativeMultiplyAdds, exits[k].GetProperty("multiplyAdds").GetInt64());
            Assert.Equal((double)manifest.Exits[k].CumulativeMultiplyAdds / manifest.FullDepthMultiplyAdds, exits[k].GetProperty("relativeCost").GetDouble(), 1e-12);
        }
        var costs = exits.Select(e => e.GetProperty("relativeCost").GetDouble()).ToList();
        Assert.Equal(costs.Order(), costs);
    }

    [Fact]
    public async Task Summary_lists_operating_points_with_their_figures_the_default_and_the_execution_provider()
    {
        var json = await OkJsonAsync<JsonElement>(await _client.GetAsync("/v1/model"));
        var manifest = factory.Model().Manifest;
        var points = json.GetProperty("operatingPoints").EnumerateArray().ToList();

        Assert.Equal(manifest.OperatingPoints.Select(p => p.Name), points.Select(p => p.GetProperty("name").GetString()!));
        for (var i = 0; i < points.Count; i++)
        {
            var expected = manifest.OperatingPoints[i];
            Assert.Equal(expected.Thresholds, points[i].GetProperty("thresholds").EnumerateArray().Select(t => t.GetSingle()));
            Assert.Equal(expected.ValidationAccuracy, points[i].GetProperty("validationAccuracy").GetDouble());
            Assert.Equal(expected.RelativeCost, points[i].GetProperty("relativeCost").GetDouble());
        }
        Assert.Equal(manifest.DefaultOperatingPoint, json.GetProperty("defaultOperatingPoint").GetString());
        Assert.Equal(OnnxSessions.CpuProvider, json.GetProperty("executionProvider").GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("executionProvider").GetProperty("reason").GetString()));
        Assert.Equal("Host", json.GetProperty("executionProvider").GetProperty("featureMemory").GetString());
    }
}
