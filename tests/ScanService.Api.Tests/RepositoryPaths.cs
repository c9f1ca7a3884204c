namespace ScanService.Api.Tests;

/// <summary>Finds files of the repository from the test's output folder.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string DefaultBundle => Path.Combine(Root, "models", "fashion-mnist");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ScanService.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("ScanService.sln not found above " + AppContext.BaseDirectory);
    }
}
