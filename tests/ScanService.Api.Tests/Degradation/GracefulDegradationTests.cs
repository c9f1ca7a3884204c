using System.Diagnostics;
using System.Text.Json.Nodes;
using ScanService.Api.Degradation;
using ScanService.Api.Tests.Metrics;
using ScanService.Api.Tests.Rest;

namespace ScanService.Api.Tests.Degradation;

/// <summary>
/// Graceful degradation through the service: who is moved, what the answer says, and what it equals. In the metrics
/// collection: its counts are scraped exactly, and OpenTelemetry listens to meters by name across the process.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class GracefulDegradationTests
{
    /// <summary>The service with degradation on but its loop asleep: the tests move the controller themselves.</summary>
    private static ScanApiFactory Degrading() => new ScanApiFactory()
        .With("Degradation:Enabled", "true")
        .With("Degradation:IntervalMilliseconds", "60000");

    private static DegradationController Controller(ScanApiFactory factory) => factory.Services.GetRequiredService<DegradationController>();

    [Fact]
    public async Task A_degraded_answer_says_so_and_equals_the_answer_of_its_point_asked_for_by_name()
    {
        using var factory = Degrading();
        using var client = factory.CreateClient();
        var controller = Controller(factory);
        // Just over the 40 ms line (0.8 × the 50 ms objective): one step.
        Assert.Equal(1, controller.Decide(41, Stopwatch.GetTimestamp()));
        var step = controller.Current!.Name;
        Assert.NotEqual(factory.Model().Manifest.DefaultOperatingPoint, step);

        for (var i = 0; i < 8; i++)
        {
            var png = FashionMnistImages.Png(i);
            var degraded = await client.ClassifyAsync(png);
            Assert.True(degraded.Degraded);
            Assert.Equal(step, degraded.OperatingPoint);

            var pinned = await client.ClassifyAsync(png, $"?operatingPoint={step}");
            Assert.False(pinned.Degraded);
            Assert.Equal(step, pinned.OperatingPoint);
            Assert.Equal(pinned.ClassIndex, degraded.ClassIndex);
            Assert.Equal(pinned.Exit, degraded.Exit);
            Assert.Equal(pinned.Confidence, degraded.Confidence);
        }
    }

    [Theory]
    [InlineData("?operatingPoint=accurate", "accurate", ExitMode.EarlyExit)]
    [InlineData("?degrade=false", "balanced", ExitMode.EarlyExit)]
    [InlineData("?fullDepth=true", null, ExitMode.FullDepth)]
    [InlineData("?ensemble=true", null, ExitMode.Ensemble)]
    public async Task Requests_that_pin_a_point_refuse_degradation_or_ask_for_another_mode_are_served_as_asked(string query, string? point, ExitMode mode)
    {
        using var factory = Degrading();
        using var client = factory.CreateClient();
        Controller(factory).Decide(1000, Stopwatch.GetTimestamp());

        var answer = await client.ClassifyAsync(FashionMnistImages.Png(3), query);

        Assert.False(answer.Degraded);
        Assert.Equal(point, answer.OperatingPoint);
        Assert.Equal(mode, answer.Mode);
    }

    [Fact]
    public async Task The_model_summary_metrics_and_the_v2_and_gRPC_answers_show_the_controller_state()
    {
        using var factory = Degrading();
        using var client = factory.CreateClient();
        var controller = Controller(factory);
        controller.Decide(41, Stopwatch.GetTimestamp());
        var step = controller.Current!;
        await client.ClassifyAsync(FashionMnistImages.Png(0));

        var summary = (await client.GetFromJsonAsync<JsonObject>("/v1/model"))!["degradation"]!;
        Assert.True((bool)summary["enabled"]!);
        Assert.Equal(1, (int)summary["level"]!);
        Assert.Equal(step.Name, (string?)summary["operatingPoint"]);
        Assert.Equal(factory.Model().Manifest.DefaultOperatingPoint, (string?)summary["steps"]![0]!["name"]);
        Assert.Equal(1, (long)summary["degradedRequests"]!);

        var metrics = await PrometheusExposition.ScrapeAsync(client);
        var model = factory.Model().Name;
        Assert.Equal(1, metrics.Value("scan_degradation_level", ("model", model), ("operating_point", step.Name)));
        Assert.Equal(step.RelativeCost, metrics.Value("scan_degradation_relative_cost", ("model", model), ("operating_point", step.Name)), 6);
        Assert.Equal(1, metrics.Value("scan_answers_degraded_total", ("model", model), ("operating_point", step.Name)));

        var v2 = await client.PostAsJsonAsync($"/v2/models/{model}/infer", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image", ["shape"] = new JsonArray(1), ["datatype"] = "BYTES",
                ["data"] = new JsonArray(Convert.ToBase64String(FashionMnistImages.Png(1))),
            }),
        });
        var parameters = JsonNode.Parse(await v2.Content.ReadAsStringAsync())!["parameters"]!;
        Assert.Equal(step.Name, (string?)parameters["operating_point"]);
        Assert.True((bool)parameters["degraded"]!);

        using var channel = Grpc.GrpcTestServer.InMemoryChannel(factory);
        var grpc = new ScanService.Protocols.Scan.V1.ClassificationService.ClassificationServiceClient(channel);
        var moved = await grpc.ClassifyAsync(Grpc.GrpcTestServer.Request("a", FashionMnistImages.Png(2), new ScanService.Protocols.Scan.V1.ClassifyOptions()));
        Assert.True(moved.Classification.Degraded);
        Assert.Equal(step.Name, moved.Classification.OperatingPoint);
        var kept = await grpc.ClassifyAsync(Grpc.GrpcTestServer.Request("b", FashionMnistImages.Png(2), new ScanService.Protocols.Scan.V1.ClassifyOptions { Degrade = false }));
        Assert.False(kept.Classification.Degraded);
        Assert.Equal(factory.Model().Manifest.DefaultOperatingPoint, kept.Classification.OperatingPoint);
    }

    [Fact]
    public async Task Under_a_real_signal_over_the_objective_the_service_degrades_by_itself()
    {
        // An objective no request can meet (a microsecond), decided every 20 ms: measured latencies alone move it.
        using var factory = new ScanApiFactory()
            .With("Degradation:Enabled", "true")
            .With("Degradation:ObjectiveMilliseconds", "0.1")
            .With("Degradation:IntervalMilliseconds", "20");
        using var client = factory.CreateClient();

        ClassifyResponse? answer = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (var i = 0; DateTime.UtcNow < deadline; i++)
        {
            answer = await client.ClassifyAsync(FashionMnistImages.Png(i % 16));
            if (answer.Degraded) break;
        }
        Assert.True(answer!.Degraded, "no answer was degraded within 30 s of requests over the objective");
        var summary = (await client.GetFromJsonAsync<JsonObject>("/v1/model"))!["degradation"]!;
        Assert.True((int)summary["level"]! >= 1);
        Assert.True((double)summary["measuredMs"]! > 0.08);
    }

    [Fact]
    public async Task Disabled_by_default_nothing_is_degraded_and_the_summary_says_so()
    {
        using var factory = new ScanApiFactory();
        using var client = factory.CreateClient();
        var answer = await client.ClassifyAsync(FashionMnistImages.Png(0));
        Assert.False(answer.Degraded);
        var summary = (await client.GetFromJsonAsync<JsonObject>("/v1/model"))!["degradation"]!;
        Assert.False((bool)summary["enabled"]!);
        Assert.Null(summary["operatingPoint"]);
    }
}
