using System.Diagnostics;
using Grpc.Net.Client;
using ScanService.Protocols.Scan.V1;
using ScanService.Benchmarks.Targets;
using ScanService.Core.Batching;
using ScanService.Core.Bundle;
using ScanService.Core.Evaluation;
using ScanService.Core.Inference;
using ScanService.Launcher;

namespace ScanService.Benchmarks;

/// <summary>A set of rows measured together: one transport, batch size and concurrency, every mode in turn.</summary>
public sealed record ScenarioGroup(string Key, string Title, string Transport, int BatchSize, int Clients, IReadOnlyList<(ServingMode Mode, IClassifyTarget Target)> Rows)
{
    /// <summary>What every row's ratios are against: (a) where the group serves it, else (b), the same service at full depth.</summary>
    public ServingMode Baseline => Rows.Select(r => r.Mode).FirstOrDefault(m => m.Kind == ModeKind.Monolithic) ?? Rows[0].Mode;
}

/// <summary>
/// Serves the test set in every way the issue asks for, in one run on one machine: the engine at batch 1 and at a
/// large batch, the dynamic batcher under concurrency, and the real service over HTTP and gRPC.
/// </summary>
public sealed class BenchmarkRunner(BenchmarkSettings settings)
{
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(2);
    private TimeSpan GraphBudget => TimeSpan.FromSeconds(settings.Quick ? 2 : 6);
    private readonly List<ScenarioResult> _results = [];
    private Dictionary<string, ModeReference> _references = [];

    public async Task<BenchmarkReport> RunAsync()
    {
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var machine = MachineInfo.Capture();
        var testSet = TestSet.Load(settings.DataFolder, settings.Limit);
        OnnxSessions.EnsureEnvironment(spinning: settings.IntraOpSpinning);
        var provider = OnnxSessions.ChooseProvider(settings.Provider);
        using var engine = EarlyExitEngine.Create(ModelBundle.Load(settings.BundlePath), provider, settings.FeatureMemory, settings.FixedBatchFor(provider), settings.InlineMaxMultiplyAdds);
        var manifest = engine.Manifest;
        var pixels = testSet.Normalised(manifest.Input);
        List<ServingMode> modes = [ServingMode.Monolithic, ServingMode.ChainedFullDepth, .. manifest.OperatingPoints.Select(p => ServingMode.EarlyExit(p.Name))];
        Console.WriteLine($"{manifest.Model.Name} {manifest.Model.Version} on {engine.Provider.Name}, features in {engine.FeatureMemory} memory{(engine.FixedBatch > 0 ? $", every graph at a fixed batch of {engine.FixedBatch}" : "")}, {engine.DescribeInlineRuns()}; {testSet.Count} test images; {machine.Cores} cores, load average {machine.LoadAverageAtStart}"
            + (machine.BackgroundTraining.Count > 0 ? $"; {machine.BackgroundTraining.Count} training run(s) in the background" : ""));

        Console.WriteLine("Reference pass: every mode through the engine at batch 256 (accuracy, cost, the answers every front end must give)");
        _references = modes.ToDictionary(m => m.Name, m => Reference(engine, m, pixels, testSet.Labels));
        foreach (var r in _references.Values)
            Console.WriteLine($"  {r.Label,-28} accuracy {r.Accuracy:P2}  relative cost {r.RelativeCost:F3}  exits {string.Join(" / ", r.ExitShares.Select(s => s.ToString("P0")))}");

        List<GraphTimings> graphs = [];
        if (settings.Transports.Contains(BenchmarkSettings.InProcess))
        {
            Console.WriteLine("Where the time goes: every graph of the chain beside the monolithic graph");
            foreach (var batch in new[] { 1, settings.LargeBatch }.Where(b => b <= testSet.Count))
            {
                var timings = GraphTimings.Measure(engine, pixels, batch, GraphBudget, [.. _references.Values]);
                graphs.Add(timings);
                Console.WriteLine($"  batch {batch}: monolithic {timings.MonolithicMs:F3} ms; stages {string.Join(" ", timings.StageMs.Select(t => t.ToString("F3")))} ms; heads {string.Join(" ", timings.HeadMs.Select(t => t.ToString("F3")))} ms");
            }
            await RunInProcessAsync(engine, modes, pixels, testSet.Count);
        }
        if (settings.Transports.Contains(BenchmarkSettings.Http) || settings.Transports.Contains(BenchmarkSettings.Grpc))
            await RunServiceAsync(modes.Where(m => m.Kind != ModeKind.Monolithic).ToList(), testSet);

        var targetMode = manifest.FindOperatingPoint("balanced")?.Name ?? manifest.DefaultOperatingPoint ?? modes[^1].Name;
        var targets = TargetChecks.Evaluate(_results, targetMode);
        return new BenchmarkReport(settings, machine.AtEnd(), manifest.Model.Name, manifest.Model.Version, started, clock.Elapsed.TotalSeconds,
            [.. _references.Values], graphs, _results, targets);
    }

    private async Task RunInProcessAsync(EarlyExitEngine engine, IReadOnlyList<ServingMode> modes, float[] pixels, int count)
    {
        foreach (var batch in new[] { 1, settings.LargeBatch })
        {
            await RunGroupAsync(new ScenarioGroup($"engine-b{batch}", $"in-process, engine, batch {batch}, 1 client", BenchmarkSettings.InProcess, batch, 1,
                modes.Select(m => (m, (IClassifyTarget)new EngineTarget(engine, m, pixels, batch))).ToList()), count);
        }
        await using var batcher = new DynamicBatcher(engine, settings.Batching);
        using var monolithic = new MonolithicBatcher(engine, settings.Batching);
        foreach (var clients in settings.Clients)
        {
            await RunGroupAsync(new ScenarioGroup($"batcher-c{clients}", $"in-process, dynamic batcher, {clients} client{(clients == 1 ? "" : "s")}", BenchmarkSettings.InProcess, 1, clients,
                modes.Select(m => (m, m.Kind == ModeKind.Monolithic
                    ? (IClassifyTarget)new MonolithicBatcherTarget(monolithic, pixels, engine.SampleSize)
                    : new BatcherTarget(batcher, m, pixels))).ToList()), count);
        }
    }

    private async Task RunServiceAsync(IReadOnlyList<ServingMode> modes, TestSet testSet)
    {
        var pngs = testSet.Pngs();
        Console.WriteLine($"Starting the service: {settings.ServiceDll}");
        using var service = await ServiceProcess.StartAsync(settings.ServiceDll, bundlePath: null, settings.ServiceSettings, TimeSpan.FromMinutes(3));
        Console.WriteLine($"  REST on {service.Rest}, gRPC on {service.Grpc}");
        if (settings.Transports.Contains(BenchmarkSettings.Http))
        {
            using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) }) { BaseAddress = service.Rest, Timeout = TimeSpan.FromMinutes(1) };
            foreach (var clients in settings.Clients)
            {
                await RunGroupAsync(new ScenarioGroup($"http-c{clients}", $"HTTP POST /v1/classify (PNG), {clients} client{(clients == 1 ? "" : "s")}", BenchmarkSettings.Http, 1, clients,
                    modes.Select(m => (m, (IClassifyTarget)new HttpTarget(http, m, pngs))).ToList()), testSet.Count);
            }
        }
        if (settings.Transports.Contains(BenchmarkSettings.Grpc))
        {
            using var channel = GrpcChannel.ForAddress(service.Grpc);
            var client = new ClassificationService.ClassificationServiceClient(channel);
            foreach (var clients in settings.Clients)
            {
                await RunGroupAsync(new ScenarioGroup($"grpc-c{clients}", $"gRPC unary Classify (PNG), {clients} client{(clients == 1 ? "" : "s")}", BenchmarkSettings.Grpc, 1, clients,
                    modes.Select(m => (m, (IClassifyTarget)new GrpcTarget(client, m, pngs))).ToList()), testSet.Count);
            }
        }
    }

    private async Task RunGroupAsync(ScenarioGroup group, int images)
    {
        Console.WriteLine($"{group.Title}:");
        foreach (var (_, target) in group.Rows)
        {
            // JIT, ORT's arenas, connections: paid before the clock starts, on images the rows then serve again.
            await LoadGenerator.RunAsync(target, group.Clients, group.BatchSize, new ImageCursor(Math.Min(images, 4 * group.Clients * group.BatchSize)), WarmUpLimit);
        }
        // Each round every mode serves the next share of the images, for at most its share of the time: modes take
        // turns through the whole row, so a change in the machine's background load falls on all of them alike.
        var rounds = settings.Rounds;
        var slice = settings.SecondsPerRow > 0 ? TimeSpan.FromSeconds(settings.SecondsPerRow / rounds) : TimeSpan.Zero;
        var chunk = (images + rounds - 1) / rounds;
        chunk = (chunk + group.BatchSize - 1) / group.BatchSize * group.BatchSize;
        var measured = group.Rows.Select(_ => new Measurement()).ToArray();
        for (var start = 0; start < images; start += chunk)
        {
            for (var i = 0; i < group.Rows.Count; i++)
            {
                var cursor = new ImageCursor(start, Math.Min(images, start + chunk));
                measured[i].Add(await LoadGenerator.RunAsync(group.Rows[i].Target, group.Clients, group.BatchSize, cursor, slice));
            }
        }
        var rows = group.Rows.Select((row, i) => Summarise(group, row.Mode, measured[i])).ToList();
        var baseline = rows.First(r => r.Mode == group.Baseline.Name);
        foreach (var row in rows)
        {
            var result = row with
            {
                ThroughputRatio = row.Throughput / baseline.Throughput,
                P50Ratio = row.P50Ms / baseline.P50Ms,
                P95Ratio = row.P95Ms / baseline.P95Ms,
                P99Ratio = row.P99Ms / baseline.P99Ms,
                AccuracyDelta = (row.Accuracy - baseline.Accuracy) * 100,
                CostRatio = row.RelativeCost / baseline.RelativeCost,
            };
            _results.Add(result);
            Console.WriteLine($"  {result.Label,-28} {result.Throughput,8:F0} img/s ({result.ThroughputRatio,5:F2}x)  p50 {result.P50Ms,7:F2} ms  p95 {result.P95Ms,7:F2}  p99 {result.P99Ms,7:F2}  {result.Images,5} images"
                + (result.Agreement < 1 ? $"  AGREEMENT {result.Agreement:P2}" : "") + (result.Errors > 0 ? $"  {result.Errors} errors: {result.FirstError}" : ""));
        }
    }

    private ScenarioResult Summarise(ScenarioGroup group, ServingMode mode, Measurement m)
    {
        var reference = _references[mode.Name];
        var latencies = m.LatenciesMs.Order().ToArray();
        var agree = m.Answers.Count(a => reference.Answers[a.Key] == a.Value);
        return new ScenarioResult
        {
            Group = group.Title,
            Transport = group.Transport,
            BatchSize = group.BatchSize,
            Clients = group.Clients,
            Mode = mode.Name,
            Label = mode.Label,
            Baseline = group.Baseline.Label,
            Images = m.Images,
            Requests = m.Requests,
            Errors = m.Errors,
            FirstError = m.FirstError,
            Seconds = m.Seconds,
            Throughput = m.Seconds > 0 ? m.Images / m.Seconds : 0,
            P50Ms = Percentiles.NearestRank(latencies, 0.50),
            P95Ms = Percentiles.NearestRank(latencies, 0.95),
            P99Ms = Percentiles.NearestRank(latencies, 0.99),
            Accuracy = reference.Accuracy,
            RelativeCost = reference.RelativeCost,
            Agreement = m.Answers.Count == 0 ? 0 : (double)agree / m.Answers.Count,
        };
    }

    private static ModeReference Reference(EarlyExitEngine engine, ServingMode mode, float[] pixels, int[] labels)
    {
        var m = engine.Manifest;
        Prediction[] predictions;
        ModeEvaluation summary;
        if (mode.Kind == ModeKind.Monolithic)
        {
            predictions = new Prediction[labels.Length];
            var size = engine.SampleSize;
            for (var start = 0; start < labels.Length; start += BundleEvaluator.BatchSize)
            {
                var n = Math.Min(BundleEvaluator.BatchSize, labels.Length - start);
                engine.RunMonolithic(pixels.AsSpan(start * size, n * size).ToArray(), n).CopyTo(predictions, start);
            }
            var accuracy = (double)predictions.Where((p, i) => p.ClassIndex == labels[i]).Count() / labels.Length;
            summary = new ModeEvaluation(mode.Name, accuracy, 1.0, Enumerable.Range(1, engine.ExitCount).Select(k => k == engine.ExitCount ? 1.0 : 0.0).ToList());
        }
        else
        {
            var plan = engine.Resolve(mode.Options);
            predictions = BundleEvaluator.RunAll(engine, pixels, labels.Length, plan);
            summary = BundleEvaluator.Summarise(mode.Name, predictions, labels, m, plan);
        }
        return new ModeReference(mode.Name, mode.Label, summary.Accuracy, summary.RelativeCost, summary.ExitShares)
        {
            Thresholds = mode.Kind == ModeKind.EarlyExit ? engine.Resolve(mode.Options).Thresholds : [],
            Answers = predictions.Select(p => new Answer(p.ClassIndex, p.Exit)).ToArray(),
        };
    }
}
