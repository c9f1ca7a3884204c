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
/// ONNX Runtime's <c>cudnn_conv_algo_search</c> for the CUDA provider. Under ONNX Runtime 1.31 with cuDNN 9 it chooses
/// the heuristic mode of the cuDNN frontend plan each convolution builds (again at every change of input shape, which is
/// what <see cref="EarlyExitEngine.FixedBatch"/> avoids); it runs no timing search there.
/// </summary>
public enum CudnnConvAlgorithmSearch
{
    /// <summary>Frontend heuristic mode A: the cheaper plan build.</summary>
    Heuristic,
    /// <summary>Frontend heuristic mode B (ONNX Runtime's default setting).</summary>
    Exhaustive,
    /// <summary>The frontend's fallback mode (ONNX Runtime warns it may be very slow).</summary>
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
