using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
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

    private readonly List<Action<IServiceCollection>> _services = [];

    public ScanApiFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Changes the app's services after its own registrations (a test exporter, say).</summary>
    public ScanApiFactory AddServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Host settings reach the app's configuration before Program.cs reads it (for the parts composed from it,
        // such as whether tracing is on); the configuration added below only arrives when the host is built.
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        builder.ConfigureTestServices(services =>
        {
            foreach (var configure in _services) configure(services);
        });
    }
}
