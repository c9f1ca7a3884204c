using System.Diagnostics;
using System.Globalization;
using ScanService.Launcher;

namespace ScanService.Benchmarks.Overload;

/// <summary>
/// The overload scenario: the capacity of the <c>balanced</c> point measured closed-loop, then open-loop Poisson
/// arrivals at multiples of it, against each mode in turn, each run on a fresh service process so that no queue,
/// controller state or warmed cache carries over from the run before.
/// </summary>
public sealed class OverloadRunner(OverloadSettings settings)
{
    /// <summary>The point whose closed-loop rate sets every run's load, as the scenario defines it.</summary>
    private const string CapacityPoint = "balanced";

    public async Task<OverloadReport> RunAsync()
    {
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var machine = MachineInfo.Capture();
        var costs = PointCosts.Load(settings.BundlePath);
        var missing = settings.Modes.Where(m => !m.Adaptive && !costs.Costs.ContainsKey(m.OperatingPoint!)).Select(m => m.Name).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"unknown mode(s) {string.Join(", ", missing)}: use {string.Join(", ", costs.Costs.Keys.Append(OverloadMode.AdaptiveName).Append(OverloadMode.AdaptiveFromAccurateName))}");
        if (!costs.Costs.ContainsKey(CapacityPoint))
            throw new ArgumentException($"the bundle has no '{CapacityPoint}' operating point, whose capacity sets the load");
        var testSet = TestSet.Load(settings.DataFolder, settings.Limit);
        var pngs = testSet.Pngs();
        var batching = ServiceBatching.Read(settings.ServiceDll);
        Console.WriteLine(F($"{costs.Model} {costs.Version}; {testSet.Count} test images; {machine.Cores} cores shared by the service and this client, load average {machine.LoadAverageAtStart}")
            + (machine.BackgroundTraining.Count > 0 ? $"; {machine.BackgroundTraining.Count} training run(s) in the background" : ""));
        Console.WriteLine($"Operating points (relative cost): {string.Join(", ", costs.Costs.Select(c => F($"{c.Key} {c.Value:F3}")))}");

        Console.WriteLine(F($"Capacity: {CapacityPoint}, {settings.CapacityClients} closed-loop clients, {settings.WarmUpSeconds:0.#} s warm-up then {settings.CapacitySeconds:0.#} s, on a fresh service"));
        var capacityMode = OverloadMode.Parse(CapacityPoint);
        CapacityResult capacity;
        using (var service = await StartAsync(capacityMode))
        {
            using var client = new OverloadClient(service.Rest, settings.MaxConnections, pngs, testSet.Labels);
            await client.ClosedLoopAsync(capacityMode.Path, settings.CapacityClients, settings.WarmUpSeconds);
            client.ResetCounters();
            var records = await client.ClosedLoopAsync(capacityMode.Path, settings.CapacityClients, settings.CapacitySeconds);
            capacity = OverloadSummary.Capacity(CapacityPoint, settings.CapacityClients, settings.CapacitySeconds, records, client.FirstError);
            await StopAsync(service, "capacity");
        }
        Console.WriteLine(F($"  {capacity.AnswersPerSecond:F0} answers/s; p50 {capacity.P50Ms:F1} ms, p99 {capacity.P99Ms:F1} ms; accuracy {capacity.Accuracy:P2}")
            + (capacity.Refused + capacity.Errors > 0 ? $"; {capacity.Refused} refused, {capacity.Errors} errors {capacity.FirstError}" : ""));
        if (!(capacity.AnswersPerSecond > 0))
            throw new InvalidOperationException($"the service answered nothing in the capacity probe: {capacity.FirstError}");

        var runs = new List<OverloadRun>();
        var total = settings.Multipliers.Count * settings.Modes.Count;
        foreach (var multiplier in settings.Multipliers)
        {
            foreach (var mode in settings.Modes)
            {
                var tag = F($"[{runs.Count + 1}/{total}] {multiplier:0.##}x {mode.Name}");
                var rate = multiplier * capacity.AnswersPerSecond;
                Console.WriteLine(F($"{tag}: fresh service{(mode.Adaptive ? $" (degradation on, objective {settings.ObjectiveMilliseconds:0.#} ms{(mode.BaseOperatingPoint is null ? "" : $", base {mode.BaseOperatingPoint}")})" : " (degradation off)")}, offering {rate:F0}/s for {settings.Seconds:0.#} s"));
                using var service = await StartAsync(mode);
                using var client = new OverloadClient(service.Rest, settings.MaxConnections, pngs, testSet.Labels);
                // A light warm-up (JIT, pools, connections) that does not load the service: the adaptive modes start undegraded.
                await client.ClosedLoopAsync(mode.Path, WarmUpClients, settings.WarmUpSeconds);
                client.ResetCounters();
                var records = await client.OpenLoopAsync(mode.Path, rate, settings.Seconds, settings.Seed);
                var run = OverloadSummary.Run(multiplier, mode, rate, settings.Seconds, settings.ObjectiveMilliseconds, records, costs, client.MaxInFlight, client.FirstError);
                await StopAsync(service, tag);
                runs.Add(run);
                Console.WriteLine(F($"{tag}: {run.Throughput:F0} answers/s of {run.SentRate:F0}/s sent; p50 {run.P50Ms:F1} ms, p99 {run.P99Ms:F1} ms (objective {(run.MeetsObjective ? "met" : "missed")}); ")
                    + F($"refused {run.Refused} ({run.RefusedShare:P1}), errors {run.Errors}; accuracy {run.Accuracy:P2}; degraded {run.DegradedShare:P1}; mean cost {run.MeanRelativeCost:F3}; ")
                    + F($"client lag p99 {run.LagP99Ms:F1} ms, {run.MaxInFlight} in flight at most")
                    + (run.MaxInFlight > settings.MaxConnections ? F($" (over the client's {settings.MaxConnections} connections: some waited in the client)") : "")
                    + (run.FirstError is null ? "" : $"; first error: {run.FirstError}"));
            }
        }
        return new OverloadReport(settings, machine.AtEnd(), costs.Model, costs.Version, batching, started, clock.Elapsed.TotalSeconds, costs.Costs, capacity, runs);
    }

    /// <summary>Clients of the warm-up before each run: enough to warm the service, too few to load it.</summary>
    internal const int WarmUpClients = 2;

    private Task<ServiceProcess> StartAsync(OverloadMode mode) =>
        ServiceProcess.StartAsync(settings.ServiceDll, bundlePath: null, settings.ServiceSettings(mode), TimeSpan.FromMinutes(3));

    /// <summary>Stops the service as an orchestrator would; says so if it had already died, since its run's errors would then be the crash's.</summary>
    private static async Task StopAsync(ServiceProcess service, string tag)
    {
        if (service.HasExited)
        {
            var output = service.Output;
            Console.WriteLine($"{tag}: the service had exited before the end of the run; its last output:\n{output[Math.Max(0, output.Length - 2000)..]}");
        }
        await service.StopAsync(TimeSpan.FromSeconds(15));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
