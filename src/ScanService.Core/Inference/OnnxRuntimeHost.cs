using Microsoft.ML.OnnxRuntime;

namespace ScanService.Core.Inference;

/// <summary>
/// Creates ONNX Runtime sessions suited to a chain of small graphs. All sessions of the process share one
/// global intra-op thread pool without spinning: with a pool per session, each spinning pool fights the
/// next session's for the cores and a 9-graph chain runs several times slower than one graph.
/// </summary>
public static class OnnxRuntimeHost
{
    public const string CpuProvider = "CPUExecutionProvider";
    public const string CudaProvider = "CUDAExecutionProvider";

    private static readonly Lock Gate = new();
    private static bool _initialised;

    /// <summary>Sets up the process-wide ORT environment once; later calls are no-ops.</summary>
    public static void EnsureEnvironment(int intraOpThreads = 0)
    {
        lock (Gate)
        {
            if (_initialised) return;
            using var threading = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = intraOpThreads > 0 ? intraOpThreads : Environment.ProcessorCount,
                GlobalInterOpNumThreads = 1,
                GlobalSpinControl = false,
            };
            var options = new EnvironmentCreationOptions
            {
                logId = "scanservice",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                threadOptions = threading,
            };
            OrtEnv.CreateInstanceWithOptions(ref options);
            _initialised = true;
        }
    }

    /// <summary>Decides the provider once at start, trying CUDA only where asked or allowed.</summary>
    public static ExecutionProviderChoice ChooseProvider(ExecutionProviderPreference preference, int deviceId = 0)
    {
        EnsureEnvironment();
        if (preference == ExecutionProviderPreference.Cpu)
            return new ExecutionProviderChoice(CpuProvider, "CPU requested in configuration");
        try
        {
            using var probe = new SessionOptions();
            probe.AppendExecutionProvider_CUDA(deviceId);
            return new ExecutionProviderChoice(CudaProvider, $"CUDA device {deviceId} loaded", deviceId);
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            if (preference == ExecutionProviderPreference.Cuda)
                throw new InvalidOperationException($"the CUDA execution provider was required but cannot be loaded: {FirstLine(e.Message)}", e);
            return new ExecutionProviderChoice(CpuProvider, $"CUDA not available ({FirstLine(e.Message)}); using CPU");
        }
    }

    public static InferenceSession CreateSession(string modelPath, ExecutionProviderChoice provider)
    {
        using var options = SessionOptionsFor(provider);
        return new InferenceSession(modelPath, options);
    }

    /// <inheritdoc cref="CreateSession(string, ExecutionProviderChoice)"/>
    public static InferenceSession CreateSession(byte[] model, ExecutionProviderChoice provider)
    {
        using var options = SessionOptionsFor(provider);
        return new InferenceSession(model, options);
    }

    private static SessionOptions SessionOptionsFor(ExecutionProviderChoice provider)
    {
        EnsureEnvironment();
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        options.DisablePerSessionThreads();
        try
        {
            if (provider.IsCuda) options.AppendExecutionProvider_CUDA(provider.DeviceId);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>An ONNX Runtime message up to its first line break: enough for a log line or a reason.</summary>
    internal static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
