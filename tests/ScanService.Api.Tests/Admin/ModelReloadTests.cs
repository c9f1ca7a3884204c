using System.Text.Json.Nodes;

namespace ScanService.Api.Tests.Admin;

/// <summary>Hot reload through the admin route and on file change: atomic swaps, refusals that keep the old model.</summary>
public sealed class ModelReloadTests : IDisposable
{
    private const string Key = "a-long-enough-admin-key";
    private readonly string _bundle;

    public ModelReloadTests()
    {
        _bundle = Path.Combine(Path.GetTempPath(), "scan-reload-" + Guid.NewGuid().ToString("N"), "bundle");
        Directory.CreateDirectory(_bundle);
        foreach (var file in Directory.GetFiles(RepositoryPaths.DefaultBundle))
            File.Copy(file, Path.Combine(_bundle, Path.GetFileName(file)));
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_bundle)!, recursive: true);

    private ScanApiFactory Factory(bool admin = true, bool watch = false) => new ScanApiFactory()
        .With("Model:BundlePath", _bundle)
        .With("Model:WatchForChanges", watch ? "true" : "false")
        .With("Admin:Enabled", admin ? "true" : "false")
        .With("Admin:Key", admin ? Key : null);

    private void SetVersion(string version)
    {
        var path = Path.Combine(_bundle, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        manifest["model"]!["version"] = version;
        File.WriteAllText(path, manifest.ToJsonString());
    }

    private static HttpRequestMessage ReloadRequest(string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/admin/reload");
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        return request;
    }

    private static async Task<string> ServedVersion(HttpClient client)
    {
        var model = await client.GetFromJsonAsync<JsonObject>("/v1/model");
        return model!["version"]!.GetValue<string>();
    }

    [Fact]
    public async Task Admin_routes_do_not_exist_unless_enabled()
    {
        using var factory = Factory(admin: false);
        using var client = factory.CreateClient();
        var response = await client.SendAsync(ReloadRequest(Key));
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"got {response.StatusCode}");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-of-some-length")]
    public async Task Reload_without_the_key_is_unauthorised(string? key)
    {
        using var factory = Factory();
        using var client = factory.CreateClient();
        var response = await client.SendAsync(ReloadRequest(key));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_good_new_bundle_is_swapped_in_and_requests_already_running_finish_on_the_old_one()
    {
        using var factory = Factory();
        using var client = factory.CreateClient();
        var original = await ServedVersion(client);
        var host = factory.Services.GetRequiredService<ModelSlot>();
        // Work under way when the reload comes: it holds a lease on the model it started with.
        var lease = host.Lease();
        var old = lease.Model;

        SetVersion("2.0.0-reloaded");
        var response = await client.SendAsync(ReloadRequest(Key));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2.0.0-reloaded", await ServedVersion(client));
        Assert.NotSame(old, host.Current);
        Assert.NotEqual("2.0.0-reloaded", original);

        // The replaced model stays whole while the lease lasts, and closes when it ends.
        var input = new float[old.Engine.SampleSize];
        var answer = old.Engine.Run(input, 1, old.Engine.Resolve(new InferenceOptions { FullDepth = true }));
        Assert.Equal(old.Engine.ExitCount, answer[0].Exit);
        Assert.False(old.Retired.IsCompleted);
        lease.Dispose();
        await old.Retired.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(host.TryLease(old));
    }

    [Fact]
    public async Task A_bad_new_bundle_is_refused_and_the_old_model_keeps_serving()
    {
        using var factory = Factory();
        using var client = factory.CreateClient();
        var before = await ServedVersion(client);

        SetVersion("3.0.0-broken");
        var stage = Path.Combine(_bundle, "stage2.onnx");
        File.WriteAllBytes(stage, File.ReadAllBytes(stage)[..100]);
        var response = await client.SendAsync(ReloadRequest(Key));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(_bundle, body);

        Assert.Equal(before, await ServedVersion(client));
        using var image = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.Root, "samples", "bag-t10k-0018.png")));
        image.Headers.ContentType = new("image/png");
        var classify = await client.PostAsync("/v1/classify", image);
        Assert.Equal(HttpStatusCode.OK, classify.StatusCode);
        Assert.True(factory.Services.GetRequiredService<ModelSlot>().IsReady);
    }

    [Fact]
    public async Task A_changed_manifest_is_picked_up_when_watching()
    {
        using var factory = Factory(admin: false, watch: true);
        using var client = factory.CreateClient();
        await ServedVersion(client);

        SetVersion("4.0.0-watched");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && await ServedVersion(client) != "4.0.0-watched")
            await Task.Delay(250);
        Assert.Equal("4.0.0-watched", await ServedVersion(client));
    }

    [Fact]
    public void Enabling_admin_without_a_key_stops_the_service_at_start()
    {
        using var factory = new ScanApiFactory().With("Admin:Enabled", "true").With("Admin:Key", "short");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Admin:Key", error.ToString());
    }
}
