using Microsoft.Extensions.Options;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.ModelLoading;

/// <summary>A loaded model: the engine and the preprocessing its manifest asks for.</summary>
public sealed record LoadedModel(EarlyExitEngine Engine, ImagePreprocessor Preprocessor, string BundleDirectory)
{
    public ModelManifest Manifest => Engine.Manifest;
    public string Name => Manifest.Model.Name;
    public string Version => Manifest.Model.Version;
}

/// <summary>
/// Owns the model the service answers with. The process comes up before the model is loaded, so liveness
/// answers at once and readiness turns true only when a bundle has loaded and validated; a bundle that
/// fails leaves the service up, not ready, with the reason logged and reported.
/// </summary>
public sealed class ModelHost(IOptions<ModelOptions> options, IHostEnvironment environment, ILogger<ModelHost> logger) : IDisposable
{
    private readonly ModelOptions _options = options.Value;
    private volatile LoadedModel? _current;

    public LoadedModel? Current => _current;
    public bool IsReady => _current is not null;
    /// <summary>Why the model is not loaded, when it is not.</summary>
    public string? LoadError { get; private set; }
    public ExecutionProviderChoice? Provider { get; private set; }

    public event Action<LoadedModel>? ModelLoaded;

    public string ResolveBundlePath()
    {
        var path = _options.BundlePath;
        if (Path.IsPathRooted(path)) return path;
        var fromContentRoot = Path.Combine(environment.ContentRootPath, path);
        if (Directory.Exists(fromContentRoot)) return fromContentRoot;
        var fromApp = Path.Combine(AppContext.BaseDirectory, path);
        return Directory.Exists(fromApp) ? fromApp : fromContentRoot;
    }

    /// <summary>Loads the configured bundle; on failure the service stays up and not ready.</summary>
    public void Load()
    {
        var path = ResolveBundlePath();
        try
        {
            OnnxRuntimeHost.EnsureEnvironment(_options.IntraOpThreads);
            Provider ??= OnnxRuntimeHost.ChooseProvider(_options.ExecutionProvider, _options.CudaDeviceId);
            logger.LogInformation("Execution provider {Provider}: {Reason}", Provider.Name, Provider.Reason);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var bundle = ModelBundle.Load(path);
            var engine = EarlyExitEngine.Create(bundle, Provider);
            var model = new LoadedModel(engine, new ImagePreprocessor(bundle.Manifest.Input, new ImageDecoder(_options.MaxImagePixels)), bundle.Directory);
            var previous = _current;
            _current = model;
            LoadError = null;
            logger.LogInformation("Model {Name} {Version} loaded from {Path} in {Elapsed:F0} ms: {Exits} exits, operating points {Points}, default {Default}",
                model.Name, model.Version, bundle.Directory, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                engine.ExitCount, string.Join(", ", bundle.Manifest.OperatingPoints.Select(p => p.Name)), bundle.Manifest.DefaultOperatingPoint ?? "full depth");
            ModelLoaded?.Invoke(model);
            previous?.Engine.Dispose();
        }
        catch (Exception e) when (e is BundleValidationException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            LoadError = e.Message;
            logger.LogError("Model bundle at {Path} could not be loaded; the service is not ready: {Reason}", path, e.Message);
            if (_options.ExecutionProvider == ExecutionProviderPreference.Cuda && e is InvalidOperationException) throw;
        }
    }

    public void Dispose() => _current?.Engine.Dispose();
}

/// <summary>Loads the model right after start so that the process answers liveness at once.</summary>
public sealed class ModelLoader(ModelHost host) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        host.Load();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
