namespace ScanService.Api.Tests;

/// <summary>The service's own build, which this project references and so finds beside its tests.</summary>
internal static class ServiceUnderTest
{
    /// <summary>What <see cref="ScanService.Launcher.ServiceProcess"/> starts as a process of its own.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "ScanService.Api.dll");
}
