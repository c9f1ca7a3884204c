using System.Runtime.InteropServices;

namespace ScanService.Benchmarks;

/// <summary>What the figures were measured on, including what else was running: the machines here are shared.</summary>
public sealed record MachineInfo(
    string Cpu, int Cores, string Os, string Runtime, string OnnxRuntime, double MemoryGiB,
    string LoadAverageAtStart, string? LoadAverageAtEnd, IReadOnlyList<string> BackgroundTraining)
{
    public static MachineInfo Capture() => new(
        Cpu: ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Cores: Environment.ProcessorCount,
        Os: RuntimeInformation.OSDescription,
        Runtime: RuntimeInformation.FrameworkDescription,
        OnnxRuntime: typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "?",
        MemoryGiB: Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0, 1),
        LoadAverageAtStart: LoadAverage(),
        LoadAverageAtEnd: null,
        BackgroundTraining: TrainingProcesses());

    public MachineInfo AtEnd() => this with { LoadAverageAtEnd = LoadAverage(), BackgroundTraining = BackgroundTraining.Union(TrainingProcesses()).ToList() };

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Training runs competing for the cores, with their command lines: processes named scan-train, and scan-train.dll run by the dotnet host (whose process is named dotnet).</summary>
    private static List<string> TrainingProcesses()
    {
        var found = new List<string>();
        if (!Directory.Exists("/proc")) return found;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
                var comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                if (comm != "scan-train" && comm != "dotnet") continue;
                var arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (comm == "dotnet" && (arguments.Length < 2 || Path.GetFileName(arguments[1]) != "scan-train.dll")) continue;
                found.Add(string.Join(' ', arguments));
            }
            catch (IOException)
            {
                // The process ended while it was read.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    private static string? ReadFirst(string path, string key)
    {
        if (!File.Exists(path)) return null;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
}
