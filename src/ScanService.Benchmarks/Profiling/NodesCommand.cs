using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks.Profiling;

/// <summary>
/// <c>scan-bench nodes</c>: ONNX Runtime's own per-node profile of a bundle's graphs, in sessions opened as the
/// service opens them (global thread pool, all graph optimisations): which kernel takes the time of a head or a stage,
/// after fusion and layout changes (NCHWc reorders appear as nodes of their own).
/// </summary>
public static class NodesCommand
{
    public static Command Create(string root)
    {
        var bundle = CommonOptions.Bundle(root);
        var graphs = new Option<string[]>("--graphs") { Description = "graph files of the bundle (default: every stage, attention module and classifier)", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch-size") { Description = "batch size each graph runs at", DefaultValueFactory = _ => 32 };
        var runs = new Option<int>("--runs") { Description = "runs per graph; the first 10 warm up and are not counted", DefaultValueFactory = _ => 200 };
        var output = CommonOptions.Output(root, "nodes.md");
        var command = new Command("nodes", "per-node kernel times of a bundle's graphs (ONNX Runtime's profiler, the service's session options)")
        {
            bundle, graphs, batch, runs, output,
        };
        command.SetAction(r =>
        {
            var loaded = ModelBundle.Load(r.GetValue(bundle)!);
            var provider = OnnxSessions.ChooseProvider(ExecutionProviderPreference.Cpu);
            var chosen = r.GetValue(graphs) is { Length: > 0 } g
                ? g.Select(name => ModelBundle.AllGraphs(loaded.Manifest).FirstOrDefault(x => x.File == name || x.File == name + ".onnx")
                    ?? throw new ArgumentException($"the bundle has no graph '{name}'")).ToList()
                : ModelBundle.AllGraphs(loaded.Manifest).ToList();
            var text = new StringBuilder();
            var machine = MachineInfo.Capture();
            text.AppendLine($"# Per-node kernel times: {loaded.Manifest.Model.Name} {loaded.Manifest.Model.Version}, batch {r.GetValue(batch)}");
            text.AppendLine();
            text.AppendLine($"`scan-bench {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}` — {machine.Cpu}, {machine.Cores} cores, load {machine.LoadAverageAtStart}; CPU provider, the service's session options; mean over {r.GetValue(runs) - Warm} runs after {Warm}.");
            foreach (var graph in chosen)
            {
                var section = Profile(loaded.PathOf(graph), graph, provider, r.GetValue(batch), r.GetValue(runs));
                Console.Write(section);
                text.Append(section);
            }
            Directory.CreateDirectory(r.GetValue(output)!);
            var path = Path.Combine(r.GetValue(output)!, "nodes.md");
            File.WriteAllText(path, text.ToString());
            Console.WriteLine($"Wrote {path}");
            return 0;
        });
        return command;
    }

    private const int Warm = 10;

    private static string Profile(string modelPath, GraphSpec graph, ExecutionProviderChoice provider, int batch, int runs)
    {
        if (runs <= Warm) throw new ArgumentException($"--runs must be more than {Warm}");
        var prefix = Path.Combine(Path.GetTempPath(), $"scan-nodes-{Guid.NewGuid():N}");
        string file;
        using (var session = OnnxSessions.CreateProfilingSession(modelPath, provider, prefix))
        {
            var shape = graph.Input.Shape.Select(d => d < 0 ? batch : d).ToArray();
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            var random = new Random(2019);
            for (var i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            using var input = OrtValue.CreateTensorValueFromMemory(values, shape);
            using var options = new RunOptions();
            for (var i = 0; i < runs; i++)
            {
                using var outputs = session.Run(options, [graph.Input.Name], [input], [graph.Output.Name]);
            }
            file = session.EndProfiling();
        }
        try
        {
            return Summarise(graph.File, File.ReadAllText(file), runs);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Kernel time per node, mean per run over the runs after the first <see cref="Warm"/>, largest first.</summary>
    public static string Summarise(string graphName, string profileJson, int runs)
    {
        using var doc = JsonDocument.Parse(profileJson);
        var perNode = new Dictionary<string, (string Op, List<double> Us)>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node") continue;
            var name = e.GetProperty("name").GetString()!;
            const string suffix = "_kernel_time";
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var node = name[..^suffix.Length];
            var op = e.GetProperty("args").GetProperty("op_name").GetString() ?? "?";
            if (!perNode.TryGetValue(node, out var entry)) perNode[node] = entry = (op, []);
            entry.Us.Add(e.GetProperty("dur").GetDouble());
        }
        // Each node appears once per run, in order: the first runs warm the caches and are dropped.
        var means = perNode.ToDictionary(n => n.Key, n => (n.Value.Op, Us: n.Value.Us.Skip(Math.Min(Warm, n.Value.Us.Count - 1)).Average()));
        var total = means.Values.Sum(v => v.Us);
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        var b = new StringBuilder();
        b.AppendLine();
        b.AppendLine(F($"## {graphName}: {total:F0} µs of kernels per run"));
        b.AppendLine();
        b.AppendLine("| operator | node | µs per run | share |");
        b.AppendLine("| --- | --- | ---: | ---: |");
        foreach (var (node, (op, us)) in means.OrderByDescending(m => m.Value.Us))
            b.AppendLine(F($"| {op} | {node} | {us:F1} | {us / total:P1} |"));
        return b.ToString();
    }
}
