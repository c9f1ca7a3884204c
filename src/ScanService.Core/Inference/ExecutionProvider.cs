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

/// <summary>The provider actually chosen, and why: reported in the log and on /metrics. <paramref name="DeviceId"/> is the CUDA device.</summary>
public sealed record ExecutionProviderChoice(string Name, string Reason, int DeviceId = 0)
{
    public bool IsCuda => Name == OnnxSessions.CudaProvider;
}
