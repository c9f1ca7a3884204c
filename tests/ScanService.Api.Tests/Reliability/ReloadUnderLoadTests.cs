using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;
using Xunit.Abstractions;

namespace ScanService.Api.Tests.Reliability;

/// <summary>
/// Hot reload while requests keep coming: REST and gRPC clients (unary and one long stream) send without pause while
/// the bundle is reloaded several times, with old models retired after one second. Every request must succeed with
/// the answer it had before (the weights do not change; only the version does), from one version or another.
/// </summary>
public sealed class ReloadUnderLoadTests(ITestOutputHelper output) : IDisposable
{
    private const string Key = "reload-under-load-admin-key";
    private const int Reloads = 5;
    private readonly string _bundle = CopyOfTheBundle();

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_bundle)!, recursive: true);

    private static string CopyOfTheBundle()
    {
        var bundle = Path.Combine(Path.GetTempPath(), "scan-reload-load-" + Guid.NewGuid().ToString("N"), "bundle");
        Directory.CreateDirectory(bundle);
        foreach (var file in Directory.GetFiles(RepositoryPaths.DefaultBundle)) File.Copy(file, Path.Combine(bundle, Path.GetFileName(file)));
        return bundle;
    }

    private void SetVersion(string version)
    {
        var path = Path.Combine(_bundle, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        manifest["model"]!["version"] = version;
        File.WriteAllText(path, manifest.ToJsonString());
    }

    /// <summary>Images and options whose answers leave at different exits, so that every depth runs during the swaps.</summary>
    private static readonly (int Image, string Query, ClassifyOptions Grpc)[] Cases =
    [
        .. Enumerable.Range(0, 6).Select(i => (i, "", new ClassifyOptions())),
        .. Enumerable.Range(0, 6).Select(i => (i, "?fullDepth=true", new ClassifyOptions { FullDepth = true })),
        .. Enumerable.Range(0, 6).Select(i => (i, "?maxExit=2", new ClassifyOptions { MaxExit = 2 })),
    ];

    [Fact]
    public async Task Requests_in_flight_across_several_reloads_all_succeed_with_their_usual_answers()
    {
        using var factory = new ScanApiFactory()
            .With("Model:BundlePath", _bundle)
            .With("Metrics:AgreementSampleRate", "0.2")
            .With("Admin:Enabled", "true")
            .With("Admin:Key", Key);
        using var admin = factory.CreateClient();
        using var channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        var grpc = new ClassificationService.ClassificationServiceClient(channel);
        var images = Enumerable.Range(0, 6).Select(CorpusImages.GreyPng).ToArray();
        var expected = new (int ClassIndex, int Exit)[Cases.Length];
        for (var c = 0; c < Cases.Length; c++)
        {
            var answer = await admin.ClassifyAsync(images[Cases[c].Image], Cases[c].Query);
            expected[c] = (answer.ClassIndex, answer.Exit);
        }
        var versions = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var requests = 0;
        using var stop = new CancellationTokenSource();

        void Check(int c, int classIndex, int exit, string version, string via)
        {
            Interlocked.Increment(ref requests);
            versions.AddOrUpdate(version, 1, (_, n) => n + 1);
            if ((classIndex, exit) != expected[c]) failures.Enqueue($"{via} case {c}: class {classIndex} exit {exit}, expected {expected[c]}");
        }

        async Task RestClient(int seed)
        {
            using var client = factory.CreateClient();
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                var c = random.Next(Cases.Length);
                using var response = await client.PostAsync("/v1/classify" + Cases[c].Query, Raw(images[Cases[c].Image], "image/png"));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"REST case {c}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    continue;
                }
                var answer = await OkJsonAsync<ScanService.Api.Rest.ClassifyResponse>(response);
                Check(c, answer.ClassIndex, answer.Exit, answer.Model.Version, "REST");
            }
        }

        async Task UnaryClient(int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                var c = random.Next(Cases.Length);
                try
                {
                    var answer = (await grpc.ClassifyAsync(new ClassifyRequest { Id = $"{c}", Image = Google.Protobuf.ByteString.CopyFrom(images[Cases[c].Image]), Options = Cases[c].Grpc })).Classification;
                    Check(c, answer.ClassIndex, answer.Exit, answer.ModelVersion, "gRPC unary");
                }
                catch (RpcException e)
                {
                    failures.Enqueue($"gRPC unary case {c}: {e.StatusCode} {e.Status.Detail}");
                }
            }
        }

        // One stream open across every reload: its items are answered by whichever model is current.
        async Task StreamClient()
        {
            using var call = grpc.ClassifyStream();
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var c = n++ % Cases.Length;
                await call.RequestStream.WriteAsync(new ClassifyRequest { Id = $"{c}", Image = Google.Protobuf.ByteString.CopyFrom(images[Cases[c].Image]), Options = Cases[c].Grpc });
                if (!await call.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("the stream ended early");
                var answer = call.ResponseStream.Current;
                if (answer.OutcomeCase != ClassifyStreamResponse.OutcomeOneofCase.Result) failures.Enqueue($"stream case {c}: {answer.Error}");
                else Check(c, answer.Result.ClassIndex, answer.Result.Exit, answer.Result.ModelVersion, "gRPC stream");
            }
            await call.RequestStream.CompleteAsync();
            Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        }

        var load = Task.WhenAll([.. Enumerable.Range(0, 4).Select(RestClient), .. Enumerable.Range(10, 2).Select(UnaryClient), StreamClient()]);
        var reloaded = new List<string>();
        var replaced = new List<ScanService.Api.ModelLoading.LoadedModel>();
        for (var r = 1; r <= Reloads; r++)
        {
            replaced.Add(factory.Model());
            // Let requests run on each version for a moment, so that some are in flight at every swap and retirement.
            await Task.Delay(TimeSpan.FromMilliseconds(600));
            var version = $"9.{r}.0-under-load";
            SetVersion(version);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/reload");
            request.Headers.Add("X-Admin-Key", Key);
            using var response = await admin.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            reloaded.Add(version);
        }
        // Every replaced model closes (batcher drained, engine disposed) once the requests it took are answered, while
        // the load goes on on the current one.
        await Task.WhenAll(replaced.Select(m => m.Retired)).WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await stop.CancelAsync();
        await load;

        output.WriteLine($"{requests} requests across {Reloads} reloads; answered by {string.Join(", ", versions.Select(v => $"{v.Key} ({v.Value})"))}");
        Assert.Empty(failures);
        Assert.All(versions.Keys, v => Assert.True(reloaded.Contains(v) || !v.EndsWith("-under-load", StringComparison.Ordinal), $"unknown version {v}"));
        Assert.True(versions.Count >= 3, $"only {versions.Count} versions answered: the load did not span the reloads");
        Assert.Contains(reloaded[^1], versions.Keys);
    }
}
