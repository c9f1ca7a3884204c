using Microsoft.Extensions.Options;
using ScanService.Api.ModelLoading;
using ScanService.Core.Batching;
using ScanService.Core.Inference;

namespace ScanService.Api.Inference;

/// <summary>
/// Owns the dynamic batcher in front of the loaded model's engine, which every front end shares. A newly loaded
/// model gets a new batcher; the old one answers what it already took (on the old engine, which ModelHost disposes
/// only after) and closes. Disposed before ModelHost at shutdown, since it depends on it.
/// </summary>
public sealed class BatcherHost : IDisposable
{
    private readonly ModelHost _host;
    private readonly BatchingOptions _options;
    private readonly IServingObserver[] _serving;
    private readonly IInferenceObserver[] _inference;
    private readonly ILogger<BatcherHost> _logger;
    private readonly Lock _gate = new();
    private LoadedModel? _model;
    private DynamicBatcher? _batcher;
    private bool _disposed;

    public BatcherHost(ModelHost host, IOptions<BatchingOptions> options, IEnumerable<IServingObserver> serving, IEnumerable<IInferenceObserver> inference, ILogger<BatcherHost> logger)
    {
        _host = host;
        _options = options.Value;
        _serving = serving.ToArray();
        _inference = inference.ToArray();
        _logger = logger;
        host.ModelLoaded += Replace;
    }

    public bool Enabled => _options.Enabled;

    /// <summary>
    /// The batcher in front of <paramref name="model"/>'s engine, made on first use (the first model may have loaded
    /// before this host existed); null when that model has been replaced meanwhile or the service is stopping.
    /// </summary>
    public DynamicBatcher? For(LoadedModel model)
    {
        lock (_gate)
        {
            if (_disposed) return null;
            if (ReferenceEquals(_model, model)) return _batcher;
            if (!ReferenceEquals(_host.Current, model)) return null;
        }
        Replace(model);
        lock (_gate)
        {
            return ReferenceEquals(_model, model) ? _batcher : null;
        }
    }

    private void Replace(LoadedModel model)
    {
        DynamicBatcher? previous;
        lock (_gate)
        {
            // Current is set before ModelLoaded is raised; a late first use of a model already replaced makes nothing.
            if (_disposed || ReferenceEquals(_model, model) || !ReferenceEquals(_host.Current, model)) return;
            previous = _batcher;
            _model = model;
            _batcher = new DynamicBatcher(model.Engine, _options, _serving, _inference);
        }
        _logger.LogInformation("Dynamic batching for {Model} {Version}: batches of up to {MaxBatchSize}, at most {MaxDelay} ms of waiting, {Capacity} samples queued at most",
            model.Name, model.Version, _options.MaxBatchSize, _options.MaxDelayMilliseconds, _options.QueueCapacity);
        // Answers what it took while this model loaded, before ModelHost disposes the engine under it.
        previous?.Dispose();
    }

    public void Dispose()
    {
        DynamicBatcher? batcher;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            batcher = _batcher;
            _batcher = null;
            _model = null;
        }
        _host.ModelLoaded -= Replace;
        batcher?.Dispose();
    }
}
