using System.ComponentModel.DataAnnotations;
using ScanService.Core.Inference;

namespace ScanService.Api.ModelLoading;

/// <summary>Configuration section "Model".</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>Model bundle folder; relative paths are resolved against the content root, then the app's folder.</summary>
    [Required]
    public string BundlePath { get; set; } = "models/fashion-mnist";

    /// <summary>auto (CUDA when it loads, else CPU), cuda (fail at start without it) or cpu.</summary>
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    public int CudaDeviceId { get; set; }

    /// <summary>
    /// ONNX Runtime's cudnn_conv_algo_search for the CUDA provider. Under ONNX Runtime 1.31 with cuDNN 9 it picks the cuDNN
    /// frontend's heuristic mode for each convolution's plan: heuristic (default) = mode A, exhaustive (ONNX Runtime's
    /// own default) = mode B, default = fallback. Ignored on CPU.
    /// </summary>
    public CudnnConvAlgorithmSearch CudnnConvAlgorithmSearch { get; set; } = CudnnConvAlgorithmSearch.Heuristic;

    /// <summary>
    /// Run every graph once when a bundle loads, before the model is ready, at the fixed batch (see FixedBatchSize) or,
    /// without one, at each batch size the service can run (1 to the batcher's largest batch, or to
    /// Limits:MaxBatchImages without the batcher), so that no request pays a shape's first run. Unset: on under CUDA,
    /// off on CPU (where a first run costs little).
    /// </summary>
    public bool? WarmUpOnLoad { get; set; }

    /// <summary>
    /// Run every graph at this one batch size: smaller batches are padded (the padding rows' outputs are dropped),
    /// larger ones run in parts. ONNX Runtime's CUDA provider plans each cuDNN convolution again whenever its input
    /// shape differs from the previous call's, which the dynamic batcher's varying batch sizes do all the time (on an
    /// H200 that held 16 clients to 40-90 images/s). Unset: under CUDA the largest batch the service runs (the
    /// batcher's largest batch, or Limits:MaxBatchImages without the batcher); 0 on CPU, where a padded row costs
    /// as much as a real one. 0: off.
    /// </summary>
    [Range(0, 4096)]
    public int? FixedBatchSize { get; set; }

    /// <summary>
    /// Where feature maps live between graphs: auto (on the GPU under CUDA, bound with IOBinding, so that only logits
    /// come back; pooled host arrays under CPU), host, or device.
    /// </summary>
    public FeatureMemory FeatureMemory { get; set; } = FeatureMemory.Auto;

    /// <summary>
    /// On the CPU provider, a run whose images times its graph's multiply-adds per image (from the manifest) are at most
    /// this many stays on the calling thread, in a second session of the graph, instead of waking the shared pool's
    /// sleeping threads: for a small run the wake-ups cost more than the parallelism saves, and early exit is made of
    /// small runs (one image per request unbatched; the few survivors past exit 1 under the batcher). Default 9
    /// million: on the 2-core benchmark machine runs up to 8-10 million were faster inline and larger ones on the pool,
    /// at widths 16 and 64 alike (docs/BENCHMARKS.md, "Inline runs"); machines with more cores may gain from less.
    /// 0: off, one session per graph. Ignored under CUDA. Answers are the same either way.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long InlineMaxMultiplyAdds { get; set; } = EarlyExitEngine.DefaultInlineMaxMultiplyAdds;

    /// <summary>Threads of the shared ONNX Runtime pool; 0 for one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Let the shared ONNX Runtime pool's threads spin between parallel sections instead of sleeping (ONNX Runtime's own
    /// default). Off by default: on the 2-core benchmark machine spinning raised the engine's throughput in process (the
    /// monolithic graph at batch 1 by 22-73 %), but the service, which shares the cores with the web server, got a longer
    /// tail at one client (full-depth p99 5-7 ms against 2-4) and mixed throughput at 16 (docs/BENCHMARKS.md). For
    /// machines whose cores the engine has to itself. Read once, at the first load.
    /// </summary>
    public bool IntraOpSpinning { get; set; }

    /// <summary>Images whose header declares more pixels than this are refused before decoding.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>
    /// Time every graph on this machine and execution provider when a bundle loads, and serve each named operating point
    /// with the thresholds of least measured time that are at least as accurate on the bundle's validation records
    /// (what <c>scan-bench calibrate</c> does, kept in memory: the bundle on disk is not changed). Off by default;
    /// a bundle without validation records is served with its own thresholds.
    /// </summary>
    public bool CalibrateOnLoad { get; set; }

    /// <summary>How long the graphs are timed when <see cref="CalibrateOnLoad"/> is on (the model is not ready meanwhile).</summary>
    [Range(0.1, 600)]
    public double CalibrationSeconds { get; set; } = 5;

    /// <summary>Batch size the graphs are timed at; 0: the dynamic batcher's largest batch, or 1 without batching.</summary>
    [Range(0, 4096)]
    public int CalibrationBatchSize { get; set; }

    /// <summary>Reload the bundle when its manifest.json changes (a new bundle moved into place).</summary>
    public bool WatchForChanges { get; set; }

    /// <summary>How long shutdown waits for requests in flight before the process ends.</summary>
    [Range(0, 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 30;
}
