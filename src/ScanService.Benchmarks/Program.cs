using System.CommandLine;
using ScanService.Benchmarks;
using ScanService.Benchmarks.Calibration;
using ScanService.Benchmarks.Overload;
using ScanService.Benchmarks.Scaling;
using ScanService.Core.Batching;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;
using ScanService.Datasets;
using ScanService.Launcher;

var root = ServiceBuild.RepositoryRoot();
var quick = new Option<bool>("--quick") { Description = "smoke run of a minute or two: 2,000 images, 1.5 s per row, 1 and 16 clients" };
var output = CommonOptions.Output(root, "benchmark.md and benchmark.json");
var limit = new Option<int?>("--limit") { Description = "use the first N test images (default 10000; 2000 with --quick)" };
var seconds = new Option<double?>("--seconds") { Description = "longest each row runs, over all its rounds; 0 serves every image (default 12; 1.5 with --quick)" };
var rounds = new Option<int?>("--rounds") { Description = "turns each group's modes take, each on the next share of the images, so that background load hits them alike (default 5; 2 with --quick)" };
var clients = new Option<int[]?>("--clients") { Description = "concurrent closed-loop clients (default 1 4 16 64; 1 16 with --quick)", AllowMultipleArgumentsPerToken = true };
var transports = new Option<string[]?>("--transports") { Description = "any of in-process http grpc (default all)", AllowMultipleArgumentsPerToken = true };
var largeBatch = new Option<int>("--large-batch") { Description = "batch size of the engine rows beside batch 1", DefaultValueFactory = _ => 32 };
var maxBatch = new Option<int>("--max-batch") { Description = "dynamic batching: largest batch", DefaultValueFactory = _ => 32 };
var maxDelay = new Option<double>("--max-delay-ms") { Description = "dynamic batching: longest wait for a batch, in ms (default: the service's)", DefaultValueFactory = _ => new BatchingOptions().MaxDelayMilliseconds };
var deepDelay = new Option<double>("--deep-stage-delay-ms") { Description = "dynamic batching: longest wait of a survivor at stage 2 or deeper while stage 1 has a full batch queued, in ms (default: the service's)", DefaultValueFactory = _ => new BatchingOptions().DeepStageDelayMilliseconds };
var capacity = new Option<int>("--queue-capacity") { Description = "dynamic batching: samples queued at most", DefaultValueFactory = _ => 1024 };
var bundle = CommonOptions.Bundle(root);
var data = new Option<string>("--data") { Description = "folder of the Fashion-MNIST IDX files", DefaultValueFactory = _ => FashionMnist.DefaultDirectory };
var service = new Option<string>("--service") { Description = "the built ScanService.Api.dll to start", DefaultValueFactory = _ => ServiceBuild.DefaultDll(typeof(BenchmarkSettings).Assembly, root) };
var provider = new Option<ExecutionProviderPreference>("--provider") { Description = "execution provider of the in-process engine (the service is started with cpu)", DefaultValueFactory = _ => ExecutionProviderPreference.Cpu };
var fixedBatch = new Option<int?>("--fixed-batch") { Description = "the one batch size every graph of the in-process engine runs at, smaller batches padded (default: the larger of --max-batch and --large-batch under CUDA, 0 = off on CPU; as the service's Model:FixedBatchSize)" };
var spinning = new Option<bool>("--intra-op-spinning") { Description = "let ONNX Runtime's pool threads spin between parallel sections, in the in-process engine and the service (Model:IntraOpSpinning; off by default)" };
var inlineMaxMultiplyAdds = new Option<long>("--inline-max-multiply-adds") { Description = "runs of at most this many multiply-adds stay on the calling thread instead of waking ONNX Runtime's pool, in the in-process engine and the service (Model:InlineMaxMultiplyAdds; 0 = off)", DefaultValueFactory = _ => EarlyExitEngine.DefaultInlineMaxMultiplyAdds };
var featureMemory = new Option<FeatureMemory>("--feature-memory") { Description = "where the in-process engine keeps feature maps between graphs (Auto: device under CUDA, host under CPU)", DefaultValueFactory = _ => FeatureMemory.Auto };

var command = new RootCommand("scan-bench: early exit against full-depth serving, in process and over HTTP and gRPC, on the Fashion-MNIST test set")
{
    quick, output, limit, seconds, rounds, clients, transports, largeBatch, maxBatch, maxDelay, deepDelay, capacity, bundle, data, service, provider, featureMemory, fixedBatch, spinning, inlineMaxMultiplyAdds,
    // scan-bench overload: its own options (the root's are not recursive), in Overload/.
    OverloadCommand.Create(root, args),
    CalibrateCommand.Create(root),
    ScalingCommand.Create(root),
    ScanService.Benchmarks.Profiling.ProfileCommand.Create(root),
    ScanService.Benchmarks.Profiling.NodesCommand.Create(root),
};
command.SetAction(async (r, _) =>
{
    var isQuick = r.GetValue(quick);
    var chosenTransports = r.GetValue(transports) is { Length: > 0 } t ? t.Select(x => x.ToLowerInvariant()).ToArray() : [BenchmarkSettings.InProcess, BenchmarkSettings.Http, BenchmarkSettings.Grpc];
    var unknown = chosenTransports.Except([BenchmarkSettings.InProcess, BenchmarkSettings.Http, BenchmarkSettings.Grpc]).ToList();
    if (unknown.Count > 0) throw new ArgumentException($"unknown transport(s) {string.Join(", ", unknown)}: use in-process, http, grpc");
    var settings = new BenchmarkSettings
    {
        BundlePath = r.GetValue(bundle)!,
        DataFolder = r.GetValue(data)!,
        ServiceDll = r.GetValue(service)!,
        OutputFolder = r.GetValue(output)!,
        Limit = r.GetValue(limit) ?? (isQuick ? 2000 : 10_000),
        SecondsPerRow = r.GetValue(seconds) ?? (isQuick ? 1.5 : 12),
        Rounds = Math.Max(1, r.GetValue(rounds) ?? (isQuick ? 2 : 5)),
        Clients = r.GetValue(clients) is { Length: > 0 } c ? c : isQuick ? [1, 16] : [1, 4, 16, 64],
        Transports = chosenTransports,
        LargeBatch = r.GetValue(largeBatch),
        MaxBatchSize = r.GetValue(maxBatch),
        MaxDelayMilliseconds = r.GetValue(maxDelay),
        DeepStageDelayMilliseconds = r.GetValue(deepDelay),
        QueueCapacity = r.GetValue(capacity),
        Provider = r.GetValue(provider),
        FeatureMemory = r.GetValue(featureMemory),
        FixedBatch = r.GetValue(fixedBatch),
        IntraOpSpinning = r.GetValue(spinning),
        InlineMaxMultiplyAdds = r.GetValue(inlineMaxMultiplyAdds),
        Quick = isQuick,
        Command = "scan-bench " + string.Join(' ', args),
    };
    if (settings.Limit < 1 || settings.Clients.Any(n => n < 1) || settings.LargeBatch < 1)
        throw new ArgumentException("--limit, --clients and --large-batch must be positive");
    if (settings.FixedBatch < 0) throw new ArgumentException("--fixed-batch must be 0 (off) or positive");
    if (settings.InlineMaxMultiplyAdds < 0) throw new ArgumentException("--inline-max-multiply-adds must be 0 (off) or positive");

    var report = await new BenchmarkRunner(settings).RunAsync();
    ReportWriter.PrintTables(report);
    var (markdown, json) = ReportWriter.Write(report, settings.OutputFolder);
    Console.WriteLine($"Wrote {markdown} and {json} ({report.WallSeconds / 60:F1} minutes)");
    return 0;
});

try
{
    return await command.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or DatasetException or BundleValidationException or TimeoutException or InvalidOperationException)
{
    // Expected failures get one clear line; anything else keeps its stack trace.
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
