namespace ScanService.Core.Inference;

/// <summary>Where the engine keeps feature maps between graphs.</summary>
public enum FeatureMemory
{
    /// <summary><see cref="Device"/> under CUDA, <see cref="Host"/> under CPU.</summary>
    Auto,
    /// <summary>
    /// Pooled .NET arrays wrapped as tensors in place: no copies on CPU. Under CUDA every feature map would travel
    /// to host memory and back between graphs.
    /// </summary>
    Host,
    /// <summary>
    /// Memory of the execution provider's device, allocated by ONNX Runtime and bound to each graph with IOBinding;
    /// survivors are compacted on the device by a Gather graph and only logits come back to host memory. Under CPU
    /// this is ONNX Runtime's CPU allocator: the same code path, which is how it is tested without a GPU.
    /// </summary>
    Device,
}
