using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ScanService.Core.Batching;
using ScanService.Core.Bundle;
using ScanService.Core.Calibration;
using ScanService.Core.Inference;
using ScanService.Benchmarks.Targets;
using ScanService.Datasets;

namespace ScanService.Benchmarks.Profiling;

/// <summary>
/// <c>scan-bench profile</c>: the dynamic batcher under closed-loop clients, taken apart. For each client count it
/// serves the test set at one operating point in process and records, per stage, the batches formed and their sizes,
/// the time in stage and head runs, the requests' wait for stage 1, and how much of the wall time the worker spent
/// running graphs. Beside it: what the same rows would cost at the per-sample graph times of full batches (measured
/// in the same run), which says how much of the run time small batches add.
/// </summary>
public static class ProfileCommand
{
    public static Command Create(string root)
    {
        var bundle = CommonOptions.Bundle(root);
        var data = new Option<string>("--data") { Description = "folder of the Fashion-MNIST IDX files", DefaultValueFactory = _ => FashionMnist.DefaultDirectory };
        var point = new Option<string>("--operating-point") { Description = "operating point served", DefaultValueFactory = _ => "balanced" };
        var clients = new Option<int[]>("--clients") { Description = "closed-loop clients, one profile each", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [16, 64] };
        var seconds = new Option<double>("--seconds") { Description = "measured time per client count (after 2 s of warm-up)", DefaultValueFactory = _ => 10 };
        var maxBatch = new Option<int>("--max-batch") { Description = "dynamic batching: largest batch", DefaultValueFactory = _ => 32 };
        var maxDelay = new Option<double>("--max-delay-ms") { Description = "dynamic batching: longest wait for a batch, in ms", DefaultValueFactory = _ => new BatchingOptions().MaxDelayMilliseconds };
        var deepDelay = new Option<double>("--deep-stage-delay-ms") { Description = "dynamic batching: longest wait of a survivor at stage 2 or deeper while stage 1 has work, in ms", DefaultValueFactory = _ => new BatchingOptions().DeepStageDelayMilliseconds };
        var output = CommonOptions.Output(root, "batcher-profile.md");
        var command = new Command("profile", "where the dynamic batcher's time goes under concurrent clients: batch sizes per stage, run time, waits")
        {
            bundle, data, point, clients, seconds, maxBatch, maxDelay, deepDelay, output,
        };
        command.SetAction(async (r, _) =>
        {
            var loaded = ModelBundle.Load(r.GetValue(bundle)!);
            using var engine = EarlyExitEngine.Create(loaded, OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu));
            var pixels = TestSet.Load(r.GetValue(data)!, 10_000).Normalised(loaded.Manifest.Input);
            var images = pixels.Length / engine.SampleSize;
            var batching = new BatchingOptions { MaxBatchSize = r.GetValue(maxBatch), MaxDelayMilliseconds = r.GetValue(maxDelay), DeepStageDelayMilliseconds = r.GetValue(deepDelay), QueueCapacity = 4096 };
            var mode = ServingMode.EarlyExit(r.GetValue(point)!);
            var machine = MachineInfo.Capture();
            Console.WriteLine($"Graph times at batch {batching.MaxBatchSize} (the reference for the rows' cost)...");
            var full = GraphTimes.Measure(engine, pixels[..(batching.MaxBatchSize * engine.SampleSize)], batching.MaxBatchSize, TimeSpan.FromSeconds(3));
            var profiles = new List<(int Clients, ProfileSnapshot Snapshot)>();
            foreach (var count in r.GetValue(clients)!)
            {
                var profile = new BatcherProfile(engine.ExitCount, batching.MaxBatchSize);
                await using (var batcher = new DynamicBatcher(engine, batching, [profile], [profile]))
                {
                    var target = new BatcherTarget(batcher, mode, pixels);
                    await RunForAsync(target, count, images, TimeSpan.FromSeconds(2));
                    profile.Reset();
                    var served = await RunForAsync(target, count, images, TimeSpan.FromSeconds(r.GetValue(seconds)));
                    var snapshot = profile.Snapshot(served);
                    profiles.Add((count, snapshot));
                    Console.WriteLine(FormattableString.Invariant($"{count} clients: {snapshot.ImagesPerSecond:F0} images/s, worker running graphs {snapshot.RunMs / snapshot.WallMs:P0} of the time"));
                }
            }
            var text = Markdown(loaded.Manifest, mode, batching, full, profiles, machine.AtEnd(), "scan-bench " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
            Console.WriteLine(text);
            Directory.CreateDirectory(r.GetValue(output)!);
            var path = Path.Combine(r.GetValue(output)!, "batcher-profile.md");
            File.WriteAllText(path, text);
            Console.WriteLine($"Wrote {path}");
            return 0;
        });
        return command;
    }

    /// <summary>Closed-loop clients over the test set, again and again, for <paramref name="budget"/>; images served.</summary>
    private static async Task<int> RunForAsync(IClassifyTarget target, int clients, int images, TimeSpan budget)
    {
        var served = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < budget)
        {
            var m = await LoadGenerator.RunAsync(target, clients, 1, new ImageCursor(images), budget - clock.Elapsed);
            if (m.Errors > 0) throw new InvalidOperationException($"{m.Errors} requests failed: {m.FirstError}");
            served += m.Images;
        }
        return served;
    }

    private static string Markdown(ModelManifest manifest, ServingMode mode, BatchingOptions batching, GraphTimes full,
        IReadOnlyList<(int Clients, ProfileSnapshot Snapshot)> profiles, MachineInfo machine, string command)
    {
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        var b = new StringBuilder();
        b.AppendLine(F($"# Dynamic batcher profile: {manifest.Model.Name} {manifest.Model.Version}, `{mode.OperatingPoint}`"));
        b.AppendLine();
        b.AppendLine(F($"`{command}` — {machine.Cpu}, {machine.Cores} cores, load {machine.LoadAverageAtStart} → {machine.LoadAverageAtEnd}; batches of up to {batching.MaxBatchSize}, delay {batching.MaxDelayMilliseconds} ms, deep-stage delay {batching.DeepStageDelayMilliseconds} ms; in process, CPU provider."));
        b.AppendLine();
        b.AppendLine(F($"Per-sample graph times at batch {full.BatchSize}: stages {string.Join(" / ", full.StagePerSample.Select(t => F($"{t * 1000:F1}")))} µs, heads {string.Join(" / ", full.HeadPerSample.Select(t => F($"{t * 1000:F1}")))} µs, monolithic {full.MonolithicPerSample * 1000:F1} µs."));
        foreach (var (clients, s) in profiles)
        {
            b.AppendLine();
            b.AppendLine(F($"## {clients} clients: {s.ImagesPerSecond:F0} images/s"));
            b.AppendLine();
            var predicted = s.Stages.Sum(k => k.Rows * full.StagePerSample[k.Stage - 1] + k.HeadRows * full.HeadPerSample[k.Stage - 1]);
            b.AppendLine(F($"Wall {s.WallMs / 1000:F1} s for {s.Images} images ({s.WallMs * 1000 / s.Images:F1} µs each); the worker ran graphs for {s.RunMs / s.WallMs:P1} of it ({s.RunMs * 1000 / s.Images:F1} µs per image), the rest is its bookkeeping, hand-offs and waits for work. The same rows at full-batch graph times: {predicted * 1000 / s.Images:F1} µs per image ({s.RunMs / predicted:F2}× as long). Wait for stage 1: mean {s.MeanQueueWaitMs:F2} ms, p99 {s.P99QueueWaitMs:F2} ms."));
            b.AppendLine();
            b.AppendLine("| stage | batches | rows (share of images) | mean batch | batches of 1 / 2–7 / 8–15 / 16–31 / full | stage ms per batch | µs per row (full batch) | head rows | head µs per row (full batch) |");
            b.AppendLine("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
            foreach (var k in s.Stages)
            {
                var i = k.Stage - 1;
                b.AppendLine(F($"| {k.Stage} | {k.Batches} | {k.Rows} ({(double)k.Rows / s.Images:P0}) | {k.MeanBatch:F1} | {string.Join(" / ", k.SizeBuckets)} | {(k.Batches == 0 ? 0 : k.StageMs / k.Batches):F3} | {(k.Rows == 0 ? 0 : k.StageMs * 1000 / k.Rows):F1} ({full.StagePerSample[i] * 1000:F1}) | {k.HeadRows} | {(k.HeadRows == 0 ? 0 : k.HeadMs * 1000 / k.HeadRows):F1} ({full.HeadPerSample[i] * 1000:F1}) |"));
            }
        }
        return b.ToString();
    }
}
