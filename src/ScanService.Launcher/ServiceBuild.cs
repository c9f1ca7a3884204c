using System.Reflection;

namespace ScanService.Launcher;

/// <summary>Where a tool of this repository finds the service's build when it is not told.</summary>
public static class ServiceBuild
{
    /// <summary>The folder holding ScanService.sln above the running tool, or the current folder outside a checkout.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ScanService.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>
    /// The service built in the same configuration as <paramref name="tool"/> (dotnet run -c Release builds both): the
    /// tool's assembly carries its configuration as the metadata <c>Configuration</c>.
    /// </summary>
    public static string DefaultDll(Assembly tool, string repositoryRoot)
    {
        var configuration = tool.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "Configuration")?.Value ?? "Release";
        return Path.Combine(repositoryRoot, "src", "ScanService.Api", "bin", configuration, "net10.0", "ScanService.Api.dll");
    }
}
