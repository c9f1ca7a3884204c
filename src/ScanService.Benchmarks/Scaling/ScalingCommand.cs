using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ScanService.Core.Batching;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks.Scaling;

/// <summary>
/// <c>scan-bench scaling</c>: how the wall-clock gain of early exit grows with the model. For each bundle (random
/// weights of the SCAN shape at several widths and input sizes, from <c>scan-train export-random</c>), every image is
/// given the exit it leaves at, drawn from the exit shares the default model's <c>balanced</c> point measured on the
/// test set, and served through the chain with heads 1..k running and exit k answering: exactly the work early exit
/// does for an image that leaves at k. Against the monolithic graph, at batch 1 through the engine and under 16
/// closed-loop clients through the dynamic batcher (the monolithic graph behind the same batching policy).
/// </summary>
public static class ScalingCommand
{
    public static Command Create(string root)
    {
        var bundles = new Option<string[]>("--bundles") { Description = "bundle folders, smallest first (scan-train export-random)", AllowMultipleArgumentsPerToken = true, Required = true };
        var shares = new Option<double[]>("--shares") { Description = "share of images leaving at each exit (default: the committed model's balanced on the test set)", AllowMultipleArgumentsPerToken = true };
        var seconds = new Option<double>("--seconds") { Description = "time per measurement (each mode, each bundle, each of batch 1 and 16 clients)", DefaultValueFactory = _ => 6 };
        var clients = new Option<int>("--clients") { Description = "closed-loop clients of the batched rows", DefaultValueFactory = _ => 16 };
        var output = CommonOptions.Output(root, "scaling.md");
        var command = new Command("scaling", "early exit against the monolithic graph at several model sizes: wall-clock speedup beside the multiply-add reduction")
        {
            bundles, shares, seconds, clients, output,
        };
        command.SetAction(async (r, _) =>
        {
            var exitShares = r.GetValue(shares) is { Length: > 0 } given ? given : DefaultShares(root);
            var rows = new List<ScalingRow>();
            var machine = MachineInfo.Capture();
            foreach (var folder in r.GetValue(bundles)!)
            {
                var row = await MeasureAsync(ModelBundle.Load(folder), exitShares, TimeSpan.FromSeconds(r.GetValue(seconds)), r.GetValue(clients));
                Console.WriteLine(row.Line());
                rows.Add(row);
            }
            var path = Path.Combine(r.GetValue(output)!, "scaling.md");
            Directory.CreateDirectory(r.GetValue(output)!);
            File.WriteAllText(path, Markdown(rows, exitShares, machine.AtEnd(), r.GetValue(clients), "scan-bench " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1))));
            Console.WriteLine($"Wrote {path}");
            return 0;
        });
        return command;
    }

    /// <summary>The committed model's <c>balanced</c> exit shares on the test set, as its manifest records them.</summary>
    private static double[] DefaultShares(string root)
    {
        var manifest = ModelBundle.ReadManifest(Path.Combine(root, "models", "fashion-mnist", ModelManifest.FileName));
        var point = manifest.FindOperatingPoint(manifest.DefaultOperatingPoint ?? "balanced");
        return point?.TestExitShares?.ToArray() ?? throw new InvalidOperationException("the committed model records no test exit shares: pass --shares");
    }

    public sealed record ScalingRow(string Model, long MonolithicMultiplyAdds, long Parameters, double MultiplyAddReduction,
        double Batch1Speedup, double Batch1MonolithicImagesPerSecond, double ClientsSpeedup, double ClientsMonolithicImagesPerSecond, int WrongExits)
    {
        public string Line() => FormattableString.Invariant(
            $"{Model}: {MonolithicMultiplyAdds / 1e6:F0} M multiply-adds; reduction {MultiplyAddReduction:F2}x; batch 1 {Batch1Speedup:F2}x ({Batch1Speedup / MultiplyAddReduction:P0}); batched clients {ClientsSpeedup:F2}x ({ClientsSpeedup / MultiplyAddReduction:P0})")
            + (WrongExits > 0 ? FormattableString.Invariant($"; {WrongExits} images left at another exit than drawn") : "");
    }

    private static async Task<ScalingRow> MeasureAsync(ModelBundle bundle, double[] shares, TimeSpan budget, int clients)
    {
        var m = bundle.Manifest;
        if (shares.Length != m.Exits.Count) throw new ArgumentException($"{shares.Length} exit shares for a model of {m.Exits.Count} exits");
        using var engine = EarlyExitEngine.Create(bundle, OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu));
        const int images = 512;
        var random = new Random(2019);
        var pixels = new float[images * engine.SampleSize];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        // Each image's exit, drawn from the shares; its plan runs heads 1..k (thresholds of 1, which a softmax of
        // random weights does not reach) and answers at k (threshold 0).
        var plans = Enumerable.Range(0, m.Exits.Count).Select(k => new ExitPlan(ExitMode.EarlyExit,
            Enumerable.Range(0, m.Exits.Count).Select(j => j < k ? 1f : 0f).ToArray(), m.Exits.Count, $"exit-{k + 1}")).ToArray();
        var exitOf = Enumerable.Range(0, images).Select(_ => Draw(shares, random.NextDouble())).ToArray();
        var reduction = m.FullDepthMultiplyAdds / shares.Select((s, k) => s * m.Exits[k].CumulativeMultiplyAdds).Sum();

        // Batch 1, the engine alone: the two take turns, three rounds each.
        var wrong = 0;
        double mono1 = 0, chain1 = 0;
        for (var round = 0; round < 3; round++)
        {
            mono1 += Rate(budget / 6, images, i => engine.RunMonolithic(pixels.AsSpan(i * engine.SampleSize, engine.SampleSize).ToArray(), 1));
            chain1 += Rate(budget / 6, images, i =>
            {
                var answer = engine.Run(pixels.AsSpan(i * engine.SampleSize, engine.SampleSize).ToArray(), 1, plans[exitOf[i]]);
                if (answer[0].Exit != exitOf[i] + 1) Interlocked.Increment(ref wrong);
            });
        }

        // Closed-loop clients, both behind the same batching policy.
        var batching = new BatchingOptions();
        double monoN, chainN;
        using (var monolithic = new MonolithicBatcher(engine, batching))
            monoN = await RateAsync(budget, images, clients, (i, ct) => monolithic.ClassifyAsync(pixels.AsMemory(i * engine.SampleSize, engine.SampleSize), 1, ct));
        await using (var batcher = new DynamicBatcher(engine, batching))
            chainN = await RateAsync(budget, images, clients, (i, ct) => batcher.ClassifyAsync(pixels.AsMemory(i * engine.SampleSize, engine.SampleSize), 1, plans[exitOf[i]], ct));

        return new ScalingRow(m.Model.Name, m.FullDepthMultiplyAdds, m.Exits[^1].CumulativeParameters, reduction,
            chain1 / mono1, mono1 / 3, chainN / monoN, monoN, wrong);
    }

    private static int Draw(double[] shares, double u)
    {
        var total = shares.Sum();
        double acc = 0;
        for (var k = 0; k < shares.Length; k++)
        {
            acc += shares[k] / total;
            if (u < acc) return k;
        }
        return shares.Length - 1;
    }

    /// <summary>Images per second of <paramref name="run"/> over the images in order, for <paramref name="budget"/> (at least 5 images).</summary>
    private static double Rate(TimeSpan budget, int images, Action<int> run)
    {
        run(0); // warm
        var clock = Stopwatch.StartNew();
        var done = 0;
        while (clock.Elapsed < budget || done < 5) run(done++ % images);
        return done / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RateAsync(TimeSpan budget, int images, int clients, Func<int, CancellationToken, Task<Prediction[]>> run)
    {
        await run(0, CancellationToken.None);
        var next = -1;
        var done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < budget)
            {
                await run(Interlocked.Increment(ref next) % images, CancellationToken.None);
                Interlocked.Increment(ref done);
            }
        })));
        return done / clock.Elapsed.TotalSeconds;
    }

    private static string Markdown(List<ScalingRow> rows, double[] shares, MachineInfo machine, int clients, string command)
    {
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine("# Early exit at several model sizes").AppendLine();
        md.AppendLine(F($"`{command}`; {machine.Cpu}, {machine.Cores} cores, ONNX Runtime {machine.OnnxRuntime} (CPU); load average {machine.LoadAverageAtStart} at the start, {machine.LoadAverageAtEnd} at the end{(machine.BackgroundTraining.Count > 0 ? "; a training run was running" : "")}."));
        md.AppendLine(F($"Random weights; each image leaves at an exit drawn from the shares {string.Join(" / ", shares.Select(s => F($"{s:P1}")))} (heads 1..k run, exit k answers)."));
        md.AppendLine().AppendLine(F($"| model | multiply-adds (monolithic) | parameters | multiply-add reduction | batch 1: speedup | of the reduction | monolithic img/s | {clients} clients: speedup | of the reduction | monolithic img/s |"));
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            md.AppendLine(F($"| {r.Model} | {r.MonolithicMultiplyAdds / 1e6:F0} M | {r.Parameters:N0} | {r.MultiplyAddReduction:F2}× | {r.Batch1Speedup:F2}× | {r.Batch1Speedup / r.MultiplyAddReduction:P0} | {r.Batch1MonolithicImagesPerSecond:F0} | {r.ClientsSpeedup:F2}× | {r.ClientsSpeedup / r.MultiplyAddReduction:P0} | {r.ClientsMonolithicImagesPerSecond:F0} |"));
        }
        return md.ToString();
    }
}
