namespace ScanService.Core.Inference;

/// <summary>Which ONNX Runtime execution provider runs the graphs.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when its libraries load, else CPU.</summary>
    Auto,
    /// <summary>CUDA or fail at start.</summary>
    Cuda,
    Cpu,
}

/// <summary>
/// How the CUDA provider picks each convolution's cuDNN algorithm (ONNX Runtime's <c>cudnn_conv_algo_search</c>).
/// The search is made once per convolution and input shape, and the batcher feeds every graph batches of every size
/// from 1 to its largest, so an exhaustive search is paid dozens of times per graph while the service is live.
/// </summary>
public enum CudnnConvAlgorithmSearch
{
    /// <summary>cuDNN's heuristics pick the algorithm without running any: cheap for every new shape.</summary>
    Heuristic,
    /// <summary>Time every algorithm on the first input of each shape (ONNX Runtime's default): the fastest kernels, the dearest new shapes.</summary>
    Exhaustive,
    /// <summary>cuDNN's default algorithm, no search.</summary>
    Default,
}

/// <summary>
/// The provider actually chosen, and why: reported in the log and on /metrics. <paramref name="DeviceId"/> is the CUDA
/// device and <paramref name="ConvAlgorithmSearch"/> how its convolutions pick cuDNN algorithms.
/// </summary>
public sealed record ExecutionProviderChoice(string Name, string Reason, int DeviceId = 0, CudnnConvAlgorithmSearch ConvAlgorithmSearch = CudnnConvAlgorithmSearch.Heuristic)
{
    public bool IsCuda => Name == OnnxSessions.CudaProvider;
}
