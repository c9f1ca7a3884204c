using System.CommandLine;
using ScanService.Datasets;
using ScanService.Launcher;

namespace ScanService.Benchmarks.Overload;

/// <summary><c>scan-bench overload</c>: its options and what it does with them; the default command is left as it was.</summary>
public static class OverloadCommand
{
    public static Command Create(string root, string[] args)
    {
        var output = CommonOptions.Output(root, "overload.md, overload.json, overload-timeline.csv and overload.svg");
        var capacitySeconds = new Option<double>("--capacity-seconds") { Description = "length of the closed-loop capacity probe of balanced", DefaultValueFactory = _ => 8 };
        var warmUp = new Option<double>("--warmup-seconds") { Description = "closed-loop warm-up before the capacity probe and before each run", DefaultValueFactory = _ => 2 };
        var seconds = new Option<double>("--seconds") { Description = "length of each open-loop run", DefaultValueFactory = _ => 20 };
        var multipliers = new Option<double[]>("--multipliers") { Description = "offered load of the runs, as multiples of the measured capacity", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1, 1.5, 2] };
        var modes = new Option<string[]>("--modes") { Description = $"any of {string.Join(" ", OverloadMode.Defaults)} (or another operating point of the bundle); run in the order given", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [.. OverloadMode.Defaults] };
        var objective = new Option<double>("--objective-ms") { Description = "latency objective: Degradation:ObjectiveMilliseconds of the adaptive modes, and what every run's p99 is checked against", DefaultValueFactory = _ => 50 };
        var clients = new Option<int>("--clients") { Description = "closed-loop clients of the capacity probe and the warm-ups", DefaultValueFactory = _ => 32 };
        var seed = new Option<int>("--seed") { Description = "seed of the Poisson arrivals (the same for every run)", DefaultValueFactory = _ => 1 };
        var maxConnections = new Option<int>("--max-connections") { Description = "connections the client may open; keep it above the service's queue capacity, or requests queue in the client instead of being refused", DefaultValueFactory = _ => 4096 };
        var limit = new Option<int>("--limit") { Description = "cycle through the first N test images", DefaultValueFactory = _ => 10_000 };
        var bundle = CommonOptions.Bundle(root, "model bundle folder (served, and read for the points' relative costs)");
        var data = new Option<string>("--data") { Description = "folder of the Fashion-MNIST IDX files", DefaultValueFactory = _ => FashionMnist.DefaultDirectory };
        var service = new Option<string>("--service") { Description = "the built ScanService.Api.dll to start", DefaultValueFactory = _ => ServiceBuild.DefaultDll(typeof(OverloadCommand).Assembly, root) };

        var command = new Command("overload", "the service past its capacity: open-loop Poisson load at multiples of balanced's closed-loop capacity over REST, each fixed point and the adaptive modes on a fresh service")
        {
            output, capacitySeconds, warmUp, seconds, multipliers, modes, objective, clients, seed, maxConnections, limit, bundle, data, service,
        };
        command.SetAction(async (r, _) =>
        {
            var chosen = r.GetValue(modes) is { Length: > 0 } m ? m.Select(x => x.ToLowerInvariant()).Distinct().ToList() : [.. OverloadMode.Defaults];
            var settings = new OverloadSettings
            {
                BundlePath = r.GetValue(bundle)!,
                DataFolder = r.GetValue(data)!,
                ServiceDll = r.GetValue(service)!,
                OutputFolder = r.GetValue(output)!,
                Limit = r.GetValue(limit),
                CapacityClients = r.GetValue(clients),
                CapacitySeconds = r.GetValue(capacitySeconds),
                WarmUpSeconds = r.GetValue(warmUp),
                Seconds = r.GetValue(seconds),
                Multipliers = r.GetValue(multipliers) is { Length: > 0 } x ? x : [1, 1.5, 2],
                Modes = [.. chosen.Select(OverloadMode.Parse)],
                ObjectiveMilliseconds = r.GetValue(objective),
                Seed = r.GetValue(seed),
                MaxConnections = r.GetValue(maxConnections),
                Command = "scan-bench " + string.Join(' ', args),
            };
            if (settings.Limit < 1 || settings.CapacityClients < 1 || settings.MaxConnections < 1)
                throw new ArgumentException("--limit, --clients and --max-connections must be positive");
            if (!(settings.CapacitySeconds > 0) || !(settings.Seconds > 0) || settings.WarmUpSeconds < 0 || !(settings.ObjectiveMilliseconds > 0))
                throw new ArgumentException("--capacity-seconds, --seconds and --objective-ms must be positive, --warmup-seconds not negative");
            if (settings.Multipliers.Any(v => !(v > 0) || double.IsInfinity(v)))
                throw new ArgumentException("--multipliers must be positive");

            var report = await new OverloadRunner(settings).RunAsync();
            OverloadWriter.PrintTable(report);
            var files = OverloadWriter.Write(report, settings.OutputFolder);
            Console.WriteLine($"Wrote {string.Join(", ", files)} ({report.WallSeconds / 60:F1} minutes)");
            return 0;
        });
        return command;
    }
}
