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

    /// <summary>Threads of the shared ONNX Runtime pool; 0 for one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Images whose header declares more pixels than this are refused before decoding.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImagePixels { get; set; } = 40_000_000;
}
