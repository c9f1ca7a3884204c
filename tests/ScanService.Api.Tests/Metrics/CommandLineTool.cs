using System.Diagnostics;

namespace ScanService.Api.Tests.Metrics;

/// <summary>Runs a command-line tool of the machine (kubectl, promtool) to completion: its exit code and everything it wrote.</summary>
internal static class CommandLineTool
{
    public static (int ExitCode, string Output, string Errors) Run(string tool, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var path = PrometheusServer.Find(tool) ?? throw new InvalidOperationException($"{tool} is not on the PATH");
        var start = new ProcessStartInfo(path, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? RepositoryPaths.Root,
        };
        using var process = Process.Start(start)!;
        // Both streams at once: a tool that fills one pipe while the other is being read to its end would block.
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', start.ArgumentList)} did not finish in 2 minutes");
        }
        return (process.ExitCode, output.Result, errors.Result);
    }
}

/// <summary>A test that needs kubectl with kustomize: skipped, saying why, where it is not installed.</summary>
public sealed class RequiresKubectlFactAttribute : FactAttribute
{
    public const string NotInstalled =
        "kubectl is not installed: install the Debian package kubernetes-client (scripts/install-test-prereqs.sh does)";

    public RequiresKubectlFactAttribute()
    {
        if (PrometheusServer.Find("kubectl") is null) Skip = NotInstalled;
    }
}

/// <summary>A theory that needs kubectl with kustomize: skipped, saying why, where it is not installed.</summary>
public sealed class RequiresKubectlTheoryAttribute : TheoryAttribute
{
    public RequiresKubectlTheoryAttribute()
    {
        if (PrometheusServer.Find("kubectl") is null) Skip = RequiresKubectlFactAttribute.NotInstalled;
    }
}
