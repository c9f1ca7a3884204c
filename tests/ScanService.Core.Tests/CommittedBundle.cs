
namespace ScanService.Core.Tests;

/// <summary>The model bundle committed in the repository, and scratch copies of it for tests that damage one.</summary>
public static class CommittedBundle
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Directory => Path.Combine(RepositoryRoot, "models", "fashion-mnist");

    public static ModelBundle Load() => ModelBundle.Load(Directory);

    /// <summary>A copy of the bundle in a fresh temporary folder; delete it with <see cref="Delete"/>.</summary>
    public static string Copy()
    {
        var target = Path.Combine(Path.GetTempPath(), "scan-bundle-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(target);
        foreach (var file in System.IO.Directory.GetFiles(Directory))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    public static void Delete(string copy)
    {
        if (System.IO.Directory.Exists(copy)) System.IO.Directory.Delete(copy, recursive: true);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ScanService.sln"))) return dir.FullName;
        throw new InvalidOperationException("ScanService.sln not found above " + AppContext.BaseDirectory);
    }
}
