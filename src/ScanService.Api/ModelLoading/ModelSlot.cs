using Microsoft.Extensions.Options;
using ScanService.Api.Classifier;
using ScanService.Api.Serving;
using ScanService.Core.Batching;
using ScanService.Core.Bundle;
using ScanService.Core.Calibration;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.ModelLoading;

/// <summary>The outcome of a reload: whether the new bundle is now served, and why not if it is not.</summary>
public sealed record ReloadResult(bool Loaded, string? Model, string? Version, string? Error);

/// <summary>
/// The one place that decides which model a request uses. The process comes up before the model is loaded, so
/// liveness answers at once and readiness turns true only when a bundle has loaded and validated; a bundle that fails
/// leaves the service up, not ready, with the reason logged and reported. A reload builds the new model (engine and
/// batcher) beside the old one and swaps them in one step: a bad new bundle is refused and the old one keeps serving.
/// Requests hold a <see cref="ModelLease"/>; the replaced model finishes what its leases run and then closes.
/// </summary>
public sealed class ModelSlot(
    IOptions<ModelOptions> options,
    IOptions<BatchingOptions> batching,
    IOptions<ServingLimits> limits,
    IHostEnvironment environment,
    IEnumerable<IServingObserver> servingObservers,
    IEnumerable<IInferenceObserver> inferenceObservers,
    IEnumerable<IModelObserver> modelObservers,
    ILogger<ModelSlot> logger) : IDisposable
{
    private readonly ModelOptions _options = options.Value;
    private readonly BatchingOptions _batching = batching.Value;
    private readonly ServingLimits _limits = limits.Value;
    private readonly IServingObserver[] _serving = servingObservers.ToArray();
    private readonly IInferenceObserver[] _inference = inferenceObservers.ToArray();
    private readonly IModelObserver[] _modelObservers = modelObservers.ToArray();
    private readonly Lock _reloadGate = new();
    private volatile LoadedModel? _current;
    private bool _disposed;

    /// <summary>The model answering now, to describe it (metadata, readiness); requests take a <see cref="Lease"/>.</summary>
    public LoadedModel? Current => _current;
    public bool IsReady => _current is not null;
    /// <summary>Why the last load failed, when it did.</summary>
    public string? LoadError { get; private set; }
    public ExecutionProviderChoice? Provider { get; private set; }

    /// <summary>A lease on the model answering now; <see cref="ModelNotReadyException"/> when there is none.</summary>
    public ModelLease Lease()
    {
        while (true)
        {
            var model = _current ?? throw new ModelNotReadyException(LoadError is null ? "the model is loading" : "no model is loaded");
            if (model.TryAcquire()) return new ModelLease(model);
            // Replaced between the read and the lease: the new one is current now.
            if (ReferenceEquals(_current, model)) throw new ModelNotReadyException("the service is shutting down");
        }
    }

    /// <summary>A lease on <paramref name="model"/> if it still takes them (not replaced yet), else null.</summary>
    public ModelLease? TryLease(LoadedModel model) => model.TryAcquire() ? new ModelLease(model) : null;

    public string ResolveBundlePath()
    {
        var path = _options.BundlePath;
        if (Path.IsPathRooted(path)) return path;
        var fromContentRoot = Path.Combine(environment.ContentRootPath, path);
        if (Directory.Exists(fromContentRoot)) return fromContentRoot;
        var fromApp = Path.Combine(AppContext.BaseDirectory, path);
        return Directory.Exists(fromApp) ? fromApp : fromContentRoot;
    }

    /// <summary>Loads the configured bundle at start; on failure the service stays up and not ready.</summary>
    public void Load() => Reload();

    /// <summary>Loads the bundle again and swaps it in if, and only if, it is valid.</summary>
    public ReloadResult Reload()
    {
        lock (_reloadGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var path = ResolveBundlePath();
            LoadedModel model;
            try
            {
                OnnxSessions.EnsureEnvironment(_options.IntraOpThreads, _options.IntraOpSpinning);
                if (Provider is null)
                {
                    Provider = OnnxSessions.ChooseProvider(_options.ExecutionProvider, _options.CudaDeviceId, _options.CudnnConvAlgorithmSearch);
                    logger.LogInformation("Execution provider {Provider}: {Reason}", Provider.Name, Provider.Reason);
                }
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var bundle = ModelBundle.Load(path);
                var engine = EarlyExitEngine.Create(bundle, Provider, _options.FeatureMemory, FixedBatch, _options.InlineMaxMultiplyAdds);
                if (_options.CalibrateOnLoad) engine = Calibrate(bundle, engine);
                if (_options.WarmUpOnLoad ?? Provider.IsCuda) WarmUp(engine);
                var batcher = _batching.Enabled ? new DynamicBatcher(engine, _batching, _serving, _inference) : null;
                model = new LoadedModel(engine, new ImagePreprocessor(bundle.Manifest.Input, new ImageDecoder(_options.MaxImagePixels)), bundle.Directory, batcher);
                logger.LogInformation("Model {Name} {Version} loaded from {Path} in {Elapsed:F0} ms: {Exits} exits, features in {FeatureMemory} memory ({FeatureMemoryReason}), {Batches}, {InlineRuns}, operating points {Points}, default {Default}",
                    model.Name, model.Version, bundle.Directory, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    engine.ExitCount, engine.FeatureMemory, engine.FeatureMemoryReason,
                    engine.FixedBatch == 0 ? "graphs run at each batch's size" : $"every graph at a fixed batch of {engine.FixedBatch}",
                    engine.DescribeInlineRuns(), string.Join(", ", bundle.Manifest.OperatingPoints.Select(p => p.Name)), bundle.Manifest.DefaultOperatingPoint ?? "full depth");
                if (batcher is not null)
                    logger.LogInformation("Dynamic batching for {Model} {Version}: batches of up to {MaxBatchSize}, at most {MaxDelay} ms of waiting, {Capacity} samples queued at most",
                        model.Name, model.Version, _batching.MaxBatchSize, _batching.MaxDelayMilliseconds, _batching.QueueCapacity);
            }
            catch (Exception e) when (e is BundleValidationException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                if (_options.ExecutionProvider == ExecutionProviderPreference.Cuda && Provider is null) throw;
                LoadError = e.Message;
                if (_current is null)
                    logger.LogError("Model bundle at {Path} could not be loaded; the service is not ready: {Reason}", path, e.Message);
                else
                    logger.LogError("Model bundle at {Path} was refused; still serving {Name} {Version}: {Reason}", path, _current.Name, _current.Version, e.Message);
                return new ReloadResult(false, _current?.Name, _current?.Version, e.Message);
            }

            var previous = _current;
            _current = model;
            LoadError = null;
            foreach (var observer in _modelObservers) observer.ModelLoaded(model);
            // Requests already running on it finish there; it closes when the last of them ends.
            previous?.Retire();
            return new ReloadResult(true, model.Name, model.Version, null);
        }
    }

    // The batcher never runs more rows than its largest batch; without it a request's images run as one batch.
    private int LargestBatch => _batching.Enabled ? _batching.MaxBatchSize : _limits.MaxBatchImages;

    /// <summary>Model:FixedBatchSize, or by default the largest batch under CUDA and none on CPU.</summary>
    private int FixedBatch => _options.FixedBatchSize ?? (Provider!.IsCuda ? LargestBatch : 0);

    private void WarmUp(EarlyExitEngine engine)
    {
        var largest = LargestBatch;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            engine.WarmUp(largest);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            // A bundle whose graphs do not run on this provider is refused like an invalid one, not served.
            engine.Dispose();
            throw new InvalidOperationException($"the bundle's graphs failed to run when warming up: {e.Message}", e);
        }
        logger.LogInformation("Warmed up {Name} {Version} on {Provider}: every graph at {Sizes} in {Elapsed:F0} ms",
            engine.Manifest.Model.Name, engine.Manifest.Model.Version, Provider!.Name,
            engine.FixedBatch == 0 ? $"batch sizes 1 to {largest}" : $"its fixed batch of {engine.FixedBatch}", System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Times <paramref name="engine"/>'s graphs and returns an engine that serves the calibrated thresholds; the
    /// bundle's own engine (and thresholds) when it cannot be calibrated, with the reason logged.
    /// </summary>
    private EarlyExitEngine Calibrate(ModelBundle bundle, EarlyExitEngine engine)
    {
        ValidationRecords records;
        try
        {
            records = Calibrator.RecordsOf(bundle);
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or IOException)
        {
            logger.LogWarning("Calibration on load skipped for {Name} {Version}; serving the bundle's own thresholds: {Reason}", bundle.Manifest.Model.Name, bundle.Manifest.Model.Version, e.Message);
            return engine;
        }
        var batch = _options.CalibrationBatchSize > 0 ? _options.CalibrationBatchSize : _batching.Enabled ? _batching.MaxBatchSize : 1;
        var machine = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        ModelManifest calibrated;
        // The engine that measured is not the one that serves: the served one reads the calibrated manifest.
        using (engine)
            calibrated = Calibrator.Calibrate(bundle.Manifest, engine, records, batch, TimeSpan.FromSeconds(_options.CalibrationSeconds), machine);
        var served = EarlyExitEngine.Create(bundle.WithManifest(calibrated), Provider!, _options.FeatureMemory, FixedBatch, _options.InlineMaxMultiplyAdds);
        var record = calibrated.Calibration!;
        logger.LogInformation("Calibrated {Name} {Version} on {Provider} at batch {Batch} in {Elapsed:F0} ms: {Points}",
            bundle.Manifest.Model.Name, bundle.Manifest.Model.Version, record.ExecutionProvider, record.BatchSize,
            System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            string.Join("; ", record.Points.Select(p => FormattableString.Invariant(
                $"{p.Name} {p.MultiplyAddRelativeTime:F3} -> {p.RelativeTime:F3} of the monolithic graph's time (thresholds {ExitRule.Describe(p.Thresholds)})"))));
        return served;
    }

    public void Dispose()
    {
        lock (_reloadGate)
        {
            if (_disposed) return;
            _disposed = true;
            _current?.Retire();
        }
    }
}

/// <summary>Loads the model right after start, and reloads it when its manifest changes if asked to.</summary>
public sealed class ModelLoader(ModelSlot host, IOptions<ModelOptions> options, ILogger<ModelLoader> logger) : IHostedService, IDisposable
{
    private FileSystemWatcher? _watcher;
    private Timer? _debounce;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        host.Load();
        if (options.Value.WatchForChanges) Watch(host.ResolveBundlePath());
        return Task.CompletedTask;
    }

    /// <summary>
    /// Watches the bundle folder's parent so that a bundle moved into place (how the exporter writes one) is
    /// seen as well as a manifest edited in place; bursts of events settle for 2 s before one reload.
    /// </summary>
    private void Watch(string bundlePath)
    {
        var full = Path.GetFullPath(bundlePath);
        var parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent)) return;
        _debounce = new Timer(_ => host.Reload(), null, Timeout.Infinite, Timeout.Infinite);
        _watcher = new FileSystemWatcher(parent) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite };
        void Changed(object? sender, FileSystemEventArgs e)
        {
            if (e.FullPath.StartsWith(full, StringComparison.Ordinal) || full.StartsWith(e.FullPath, StringComparison.Ordinal))
                _debounce.Change(TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        }
        _watcher.Changed += Changed;
        _watcher.Created += Changed;
        _watcher.Renamed += Changed;
        _watcher.EnableRaisingEvents = true;
        logger.LogInformation("Watching {Path} for a new model bundle", full);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
    }
}
