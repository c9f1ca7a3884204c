using System.CommandLine;

namespace ScanService.Benchmarks;

/// <summary>Options that several <c>scan-bench</c> commands take, with the repository's defaults in one place.</summary>
internal static class CommonOptions
{
    /// <summary><c>--bundle</c>: the model bundle folder, the committed model by default.</summary>
    public static Option<string> Bundle(string root, string description = "model bundle folder") =>
        new("--bundle") { Description = description, DefaultValueFactory = _ => Path.Combine(root, "models", "fashion-mnist") };

    /// <summary><c>--out</c>: the folder a command writes <paramref name="files"/> to, artifacts/benchmarks by default.</summary>
    public static Option<string> Output(string root, string files) =>
        new("--out") { Description = $"folder for {files}", DefaultValueFactory = _ => Path.Combine(root, "artifacts", "benchmarks") };
}
