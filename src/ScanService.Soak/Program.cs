using System.CommandLine;
using System.Text.Json;
using ScanService.Datasets;
using ScanService.Launcher;
using ScanService.Soak;

var root = ServiceBuild.RepositoryRoot();
var seconds = new Option<double>("--seconds") { Description = "how long the load runs", DefaultValueFactory = _ => 60 };
var clients = new Option<int>("--clients") { Description = "concurrent closed-loop clients: half REST, a quarter gRPC unary, a quarter gRPC streams", DefaultValueFactory = _ => 64 };
var images = new Option<int>("--images") { Description = "Fashion-MNIST test images sent, each with every option profile", DefaultValueFactory = _ => 128 };
var data = new Option<string>("--data") { Description = "the Fashion-MNIST test images (IDX, gzip or plain)", DefaultValueFactory = _ => SoakSettings.DefaultImages };
var service = new Option<string>("--service") { Description = "the built ScanService.Api.dll to start as a child process", DefaultValueFactory = _ => ServiceBuild.DefaultDll(typeof(SoakSettings).Assembly, root) };
var bundle = new Option<string?>("--bundle") { Description = "model bundle the started service serves (default: its own)" };
var set = new Option<string[]>("--set") { Description = "configuration of the started service, key=value (e.g. Batching:QueueCapacity=64)", AllowMultipleArgumentsPerToken = true };
var url = new Option<string?>("--url") { Description = "REST address of a service already running: start nothing" };
var grpcUrl = new Option<string?>("--grpc-url") { Description = "gRPC (HTTP/2) address of that service" };
var pid = new Option<int?>("--pid") { Description = "process id of that service, to sample its working set" };
var window = new Option<int>("--stream-window") { Description = "items a stream client keeps unanswered at once", DefaultValueFactory = _ => 4 };
var timeout = new Option<double>("--timeout") { Description = "seconds after which an unanswered request is an error", DefaultValueFactory = _ => 60 };
var seed = new Option<int>("--seed") { Description = "seed of the clients' choice of cases", DefaultValueFactory = _ => 1 };
var json = new Option<string?>("--json") { Description = "also write the report as JSON to this file" };

var command = new RootCommand("scan-soak: the service under sustained mixed REST and gRPC load; every answer must equal its reference, taken without load, or be a documented refusal")
{
    seconds, clients, images, data, service, bundle, set, url, grpcUrl, pid, window, timeout, seed, json,
};
command.SetAction(async (r, cancellationToken) =>
{
    var settings = new SoakSettings
    {
        Duration = TimeSpan.FromSeconds(r.GetValue(seconds)),
        Clients = r.GetValue(clients),
        Images = r.GetValue(images),
        ImagesFile = r.GetValue(data)!,
        ServiceDll = r.GetValue(service),
        BundlePath = r.GetValue(bundle),
        ServiceSettings = (r.GetValue(set) ?? []).Select(Setting).ToDictionary(kv => kv.Key, kv => kv.Value),
        Url = Address(r.GetValue(url), "--url"),
        GrpcUrl = Address(r.GetValue(grpcUrl), "--grpc-url"),
        Pid = r.GetValue(pid),
        StreamWindow = r.GetValue(window),
        RequestTimeout = TimeSpan.FromSeconds(r.GetValue(timeout)),
        Seed = r.GetValue(seed),
    };
    var report = await SoakRunner.RunAsync(settings, line => Console.WriteLine(line), cancellationToken);
    Console.WriteLine();
    Console.Write(report.Format());
    if (r.GetValue(json) is { } path)
    {
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), cancellationToken);
        Console.WriteLine($"Wrote {path}");
    }
    return report.Passed ? 0 : 1;
});

try
{
    return await command.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or DatasetException or TimeoutException or InvalidOperationException or HttpRequestException)
{
    // The soak could not start or take its references: one clear line, and a status apart from a failed soak's.
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static KeyValuePair<string, string> Setting(string text) =>
    text.Split('=', 2) is [var key, var value] && key.Length > 0
        ? new(key, value)
        : throw new ArgumentException($"--set takes key=value, got '{text}'");

static Uri? Address(string? text, string option) =>
    text is null ? null
    : Uri.TryCreate(text, UriKind.Absolute, out var address) && address.Scheme is "http" or "https" ? address
    : throw new ArgumentException($"{option} takes an absolute http(s) address, got '{text}'");
