using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace ScanService.Api.Tests;

/// <summary>
/// The service in memory, on the committed model bundle and the CPU provider. Each test class owns its app;
/// settings can be overridden per factory (a bad bundle path, smaller limits...).
/// </summary>
public class ScanApiFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Model:BundlePath"] = RepositoryPaths.DefaultBundle,
        ["Model:ExecutionProvider"] = "Cpu",
    };

    public ScanApiFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
    }
}
