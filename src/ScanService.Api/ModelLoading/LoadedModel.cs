using ScanService.Core.Batching;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.ModelLoading;

/// <summary>
/// A loaded model and everything that serves it: the engine, the preprocessing its manifest asks for, and the dynamic
/// batcher in front of the engine (none when batching is off). Requests use it through a <see cref="ModelLease"/>
/// from <see cref="ModelSlot"/>. Once replaced it takes no new leases; when the last lease ends its batcher (idle by
/// then) closes and its engine is disposed, so nothing that runs on it ever meets a disposed session.
/// </summary>
public sealed class LoadedModel
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _retired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leases;
    private bool _retiring;

    public LoadedModel(EarlyExitEngine engine, ImagePreprocessor preprocessor, string bundleDirectory, DynamicBatcher? batcher)
    {
        Engine = engine;
        Preprocessor = preprocessor;
        BundleDirectory = bundleDirectory;
        Batcher = batcher;
    }

    public EarlyExitEngine Engine { get; }
    public ImagePreprocessor Preprocessor { get; }
    public string BundleDirectory { get; }
    /// <summary>The batcher every front end shares for this model; null when batching is off.</summary>
    public DynamicBatcher? Batcher { get; }

    public ModelManifest Manifest => Engine.Manifest;
    public string Name => Manifest.Model.Name;
    public string Version => Manifest.Model.Version;

    /// <summary>Completes once the model has been replaced and its last lease has ended: its batcher closed, its engine disposed.</summary>
    public Task Retired => _retired.Task;

    /// <summary>Leases not yet ended.</summary>
    public int Leases
    {
        get
        {
            lock (_gate) return _leases;
        }
    }

    /// <summary>A new lease, unless the model is retiring.</summary>
    internal bool TryAcquire()
    {
        lock (_gate)
        {
            if (_retiring) return false;
            _leases++;
            return true;
        }
    }

    internal void ReleaseLease()
    {
        bool close;
        lock (_gate)
        {
            if (_leases == 0) throw new InvalidOperationException("a model lease was ended twice");
            close = --_leases == 0 && _retiring;
        }
        if (close) Close();
    }

    /// <summary>Takes no new leases; closes now if none is held, else when the last ends.</summary>
    internal void Retire()
    {
        bool close;
        lock (_gate)
        {
            if (_retiring) return;
            _retiring = true;
            close = _leases == 0;
        }
        if (close) Close();
    }

    private void Close()
    {
        try
        {
            // Every request that used the batcher held a lease, and all have ended: it has nothing left to answer.
            Batcher?.Dispose();
            Engine.Dispose();
        }
        finally
        {
            _retired.TrySetResult();
        }
    }
}

/// <summary>
/// A request's hold on the model it runs on: the model stays whole (batcher open, sessions alive) until the lease ends,
/// even if another model replaces it meanwhile.
/// </summary>
public sealed class ModelLease : IDisposable
{
    private LoadedModel? _model;

    internal ModelLease(LoadedModel model) => _model = model;

    public LoadedModel Model => _model ?? throw new ObjectDisposedException(nameof(ModelLease));

    public void Dispose() => Interlocked.Exchange(ref _model, null)?.ReleaseLease();
}

/// <summary>Hears when a model has become the one the service answers with (metrics, for one).</summary>
public interface IModelObserver
{
    void ModelLoaded(LoadedModel model);
}
