using Google.Protobuf;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Grpc.Net.Client;
using ScanService.Datasets;
using ScanService.Launcher;

namespace ScanService.Soak;

/// <summary>
/// A soak of the real service: reference answers first, one request at a time without load, for every image with
/// every option profile; then a bounded run of concurrent REST and gRPC clients whose every answer must equal its
/// reference (same class, same exit) or be a documented refusal; the service's working set sampled each second.
/// </summary>
public static class SoakRunner
{
    public static async Task<SoakReport> RunAsync(SoakSettings settings, Action<string> log, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        ServiceProcess? service = null;
        try
        {
            if (settings.Url is null)
            {
                log($"starting {settings.ServiceDll}");
                service = await ServiceProcess.StartAsync(settings.ServiceDll!, settings.BundlePath, settings.ServiceSettings, settings.ReadyTimeout);
                log($"service {service.Id} ready: REST {service.Rest}, gRPC {service.Grpc}");
            }
            var http = settings.Url ?? service!.Rest;
            var grpc = settings.GrpcUrl ?? service!.Grpc;
            var pid = service?.Id ?? settings.Pid;

            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = http, Timeout = settings.RequestTimeout };
            using var channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });

            var (model, operatingPoints, exitCount) = await ReadModelAsync(client, cancellationToken);
            var profiles = OptionProfile.For(operatingPoints, exitCount);
            var images = IdxFile.ReadImages(settings.ImagesFile).Pngs(settings.Images);
            log($"model {model}: {exitCount} exits, operating points {string.Join(", ", operatingPoints)}; {images.Count} images x {profiles.Count} profiles");

            var referenceTimer = Stopwatch.StartNew();
            var cases = await ReferenceAnswersAsync(client, images, profiles, cancellationToken);
            var referenceSeconds = referenceTimer.Elapsed.TotalSeconds;
            log($"{cases.Count} reference answers in {referenceSeconds:F1} s; exits {string.Join(", ", cases.GroupBy(c => c.Expected.Exit).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"))}");

            var progress = new SoakProgress();
            var target = new SoakTarget(client, channel, model, images, cases, settings.RequestTimeout, progress)
            {
                OversizeItem = settings.OversizeItemBytes > 0 ? ByteString.CopyFrom(new byte[settings.OversizeItemBytes]) : null,
                CancelledCallShare = settings.CancelledCallShare,
            };
            var clients = MakeClients(settings, target);
            await using var sampler = pid is { } p && WorkingSetSampler.Read(p) is not null ? new WorkingSetSampler(p) : null;
            var before = sampler?.SampleNow();
            sampler?.Start();

            log($"soak: {clients.Count} clients ({clients.Count(c => c is RestSoakClient)} REST, {clients.Count(c => c is GrpcUnarySoakClient)} gRPC unary, " +
                $"{clients.Count(c => c is GrpcStreamSoakClient)} gRPC streams) for {settings.Duration.TotalSeconds:F0} s");
            var soakTimer = Stopwatch.StartNew();
            var deadline = Stopwatch.GetTimestamp() + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);
            var running = Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(deadline, cancellationToken), cancellationToken)));
            while (await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)) != running)
            {
                var rss = pid is { } id ? WorkingSetSampler.Read(id) : null;
                log($"  {soakTimer.Elapsed.TotalSeconds,4:F0} s: {progress.Requests} requests, {progress.Refused} refused, {progress.Errors} errors, {progress.Wrong} wrong" +
                    (rss is { } bytes ? $", working set {bytes / 1048576.0:F0} MiB" : ""));
            }
            await running;
            var seconds = soakTimer.Elapsed.TotalSeconds;
            await (sampler?.StopAsync() ?? Task.CompletedTask);
            var final = sampler?.SampleNow();

            var healthy = await StillHealthyAsync(client, images, cases, log, cancellationToken);
            var routes = new Dictionary<string, RouteTally>();
            foreach (var (route, tally) in clients.SelectMany(c => c.Routes))
            {
                if (!routes.TryGetValue(route, out var sum)) routes[route] = sum = new RouteTally();
                sum.Add(tally);
            }
            var total = new RouteTally();
            foreach (var tally in routes.Values) total.Add(tally);

            int? exitCode = null;
            if (service is not null)
            {
                exitCode = await service.StopAsync(TimeSpan.FromSeconds(60));
                log($"service stopped with SIGTERM: exit code {(exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none, killed after 60 s")}");
            }
            return new SoakReport
            {
                Clients = clients.Count,
                Images = images.Count,
                Profiles = profiles.Select(p => p.Name).ToList(),
                Cases = cases.Count,
                ReferenceSeconds = referenceSeconds,
                Seconds = seconds,
                Routes = routes.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => SoakReport.Figures(r.Key, r.Value)).ToList(),
                Total = SoakReport.Figures("total", total),
                WorkingSet = sampler?.Samples ?? [],
                WorkingSetBefore = before?.Bytes,
                WorkingSetFinal = final?.Bytes,
                HealthyAfter = healthy,
                StartedService = service is not null,
                ExitCode = exitCode,
                Problems = progress.Problems,
            };
        }
        catch when (service is not null && service.HasExited)
        {
            log($"the service process ended during the soak; its output:\n{service.Output}");
            throw;
        }
        finally
        {
            service?.Dispose();
        }
    }

    private static List<SoakClient> MakeClients(SoakSettings settings, SoakTarget target)
    {
        var rest = settings.Clients / 2;
        var unary = (settings.Clients - rest) / 2;
        var clients = new List<SoakClient>();
        for (var i = 0; i < settings.Clients; i++)
        {
            var seed = settings.Seed * 10_007 + i;
            clients.Add(i < rest ? new RestSoakClient(target, seed)
                : i < rest + unary ? new GrpcUnarySoakClient(target, seed)
                : new GrpcStreamSoakClient(target, seed, settings.StreamWindow));
        }
        return clients;
    }

    private static async Task<(string Name, List<string> OperatingPoints, int ExitCount)> ReadModelAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var json = JsonDocument.Parse(await client.GetStringAsync("/v1/model", cancellationToken));
        var root = json.RootElement;
        return (root.GetProperty("name").GetString()!,
            root.GetProperty("operatingPoints").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList(),
            root.GetProperty("exits").GetArrayLength());
    }

    /// <summary>Every image with every profile, one request at a time: the answers the service gives without load.</summary>
    private static async Task<List<SoakCase>> ReferenceAnswersAsync(HttpClient client, IReadOnlyList<byte[]> images, IReadOnlyList<OptionProfile> profiles, CancellationToken cancellationToken)
    {
        var cases = new List<SoakCase>(images.Count * profiles.Count);
        for (var i = 0; i < images.Count; i++)
        {
            foreach (var profile in profiles)
                cases.Add(new SoakCase(i, profile, await ClassifyAsync(client, images[i], profile, cancellationToken)));
        }
        return cases;
    }

    private static async Task<ExpectedAnswer> ClassifyAsync(HttpClient client, byte[] image, OptionProfile profile, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(image);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync("/v1/classify" + profile.Query(), content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"the reference request with {profile} got HTTP {(int)response.StatusCode}: {body}");
        var (classIndex, exit) = RestSoakClient.ReadClassifyAnswer(body);
        return new ExpectedAnswer(classIndex, exit);
    }

    /// <summary>After the load: still ready, and a sample of the cases still answered with their reference, one at a time.</summary>
    private static async Task<bool> StillHealthyAsync(HttpClient client, IReadOnlyList<byte[]> images, IReadOnlyList<SoakCase> cases, Action<string> log, CancellationToken cancellationToken)
    {
        try
        {
            using var ready = await client.GetAsync("/v2/health/ready", cancellationToken);
            if (ready.StatusCode != HttpStatusCode.OK)
            {
                log($"after the load /v2/health/ready answered {(int)ready.StatusCode}");
                return false;
            }
            foreach (var @case in cases.Where((_, i) => i % Math.Max(1, cases.Count / 32) == 0))
            {
                var answer = await ClassifyAsync(client, images[@case.Image], @case.Profile, cancellationToken);
                if (answer != @case.Expected)
                {
                    log($"after the load image {@case.Image} with {@case.Profile} answered {answer}, its reference is {@case.Expected}");
                    return false;
                }
            }
            return true;
        }
        catch (HttpRequestException e)
        {
            log($"after the load the service did not answer: {e.Message}");
            return false;
        }
    }
}
