using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ScanService.Api.ModelLoading;

namespace ScanService.Api.Admin;

/// <summary>The admin routes: reloading the model bundle. Off by default; guarded by a configured key.</summary>
public static class AdminApi
{
    public sealed record ReloadResponse(bool Loaded, string? Model, string? Version, string? Error);

    public static IHostApplicationBuilder AddScanAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section)
            .Validate(o => !o.Enabled || o.Key is { Length: >= 16 }, "Admin:Key must be set (16 characters or more) when Admin:Enabled is true")
            .ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapScanAdmin(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled) return app;
        var group = app.MapGroup("/admin").WithTags("Admin");
        group.MapPost("/reload", Reload)
            .WithSummary("Reload the model bundle")
            .WithDescription("Loads the configured bundle again and swaps it in atomically. A bundle that fails validation is refused (409) and the current model keeps serving. Needs the X-Admin-Key header.");
        return app;
    }

    private static Results<Ok<ReloadResponse>, Conflict<ReloadResponse>, UnauthorizedHttpResult> Reload(HttpRequest request, ModelSlot host, IOptions<AdminOptions> options)
    {
        if (!KeyMatches(request.Headers[AdminOptions.KeyHeader].ToString(), options.Value.Key)) return TypedResults.Unauthorized();
        var result = host.Reload();
        var response = new ReloadResponse(result.Loaded, result.Model, result.Version, result.Loaded ? null : "the new bundle was refused; see the service log");
        return result.Loaded ? TypedResults.Ok(response) : TypedResults.Conflict(response);
    }

    /// <summary>Constant-time comparison, so that response times do not reveal how much of a guessed key is right.</summary>
    private static bool KeyMatches(string given, string? expected) =>
        expected is not null && given.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
