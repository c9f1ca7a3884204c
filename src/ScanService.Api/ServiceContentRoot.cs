namespace ScanService.Api;

/// <summary>
/// Where the service finds appsettings.json and the default bundle. ASP.NET Core's default is the working directory,
/// so a published service started from another folder would run without its configuration (no gRPC port, another
/// listen address) and still report ready. The folder of the service's own files is the default here; an explicit
/// --contentRoot argument or ASPNETCORE_CONTENTROOT / DOTNET_CONTENTROOT still wins.
/// </summary>
internal static class ServiceContentRoot
{
    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        ContentRootPath = IsGiven(args) ? null : AppContext.BaseDirectory,
    };

    private static bool IsGiven(string[] args) =>
        args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase) || a.StartsWith("/contentRoot", StringComparison.OrdinalIgnoreCase))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
}
