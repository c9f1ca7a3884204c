using Microsoft.ML.OnnxRuntime;

namespace ScanService.Core.Inference;

/// <summary>
/// Creates ONNX Runtime sessions suited to a chain of small graphs. All sessions of the process share one
/// global intra-op thread pool: with a pool per session, each spinning pool fights the next session's for the cores
/// and a 9-graph chain runs several times slower than one graph. The shared pool does not spin by default (its threads
/// sleep between parallel sections and leave the cores to the web server); spinning is an option for machines whose
/// cores the engine has to itself (docs/BENCHMARKS.md, "Spinning intra-op threads").
/// </summary>
public static class OnnxSessions
{
    public const string CpuProvider = "CPUExecutionProvider";
    public const string CudaProvider = "CUDAExecutionProvider";

    private static readonly Lock Gate = new();
    private static bool _initialised;

    /// <summary>
    /// Sets up the process-wide ORT environment once, with <paramref name="intraOpThreads"/> pool threads (0: one per
    /// core) that spin between parallel sections when <paramref name="spinning"/>; later calls are no-ops.
    /// </summary>
    public static void EnsureEnvironment(int intraOpThreads = 0, bool spinning = false)
    {
        lock (Gate)
        {
            if (_initialised) return;
            using var threading = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = intraOpThreads > 0 ? intraOpThreads : Environment.ProcessorCount,
                GlobalInterOpNumThreads = 1,
                GlobalSpinControl = spinning,
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
    public static ExecutionProviderChoice ChooseProvider(ExecutionProviderPreference preference, int deviceId = 0,
        CudnnConvAlgorithmSearch convAlgorithmSearch = CudnnConvAlgorithmSearch.Heuristic)
    {
        EnsureEnvironment();
        if (preference == ExecutionProviderPreference.Cpu)
            return new ExecutionProviderChoice(CpuProvider, "CPU requested in configuration");
        // Under Auto, look for the CUDA libraries first: ONNX Runtime logs a failed provider load at error level,
        // which would put a red line in every CPU start. Under Cuda the attempt is made anyway, for ONNX Runtime's
        // own message.
        if (preference == ExecutionProviderPreference.Auto && MissingCudaLibrary() is { } missing)
            return new ExecutionProviderChoice(CpuProvider, $"CUDA not available ({missing} not found); using CPU");
        try
        {
            var choice = new ExecutionProviderChoice(CudaProvider, $"CUDA device {deviceId} loaded, cuDNN convolution algorithm search {convAlgorithmSearch}", deviceId, convAlgorithmSearch);
            using var probe = new SessionOptions();
            AppendCuda(probe, choice);
            return choice;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            if (preference == ExecutionProviderPreference.Cuda)
                throw new InvalidOperationException($"the CUDA execution provider was required but cannot be loaded: {FirstLine(e.Message)}", e);
            return new ExecutionProviderChoice(CpuProvider, $"CUDA not available ({FirstLine(e.Message)}); using CPU");
        }
    }

    /// <summary>
    /// The shared libraries the CUDA provider of Microsoft.ML.OnnxRuntime.Gpu 1.31 links (CUDA 13, cuDNN 9), in the
    /// order it loads them: the provider itself ships with the package only in the CUDA flavour.
    /// </summary>
    private static readonly string[] CudaLibraries = OperatingSystem.IsWindows()
        ? ["onnxruntime_providers_cuda.dll", "cudart64_13.dll", "cublasLt64_13.dll", "cudnn64_9.dll"]
        : ["libonnxruntime_providers_cuda.so", "libcudart.so.13", "libcublasLt.so.13", "libcudnn.so.9"];

    /// <summary>The first CUDA library that cannot be loaded, or null when all can.</summary>
    public static string? MissingCudaLibrary()
    {
        var providerFolder = Path.GetDirectoryName(typeof(OrtEnv).Assembly.Location) ?? AppContext.BaseDirectory;
        foreach (var library in CudaLibraries)
        {
            var loaded = library.Contains("providers", StringComparison.Ordinal)
                ? ProviderLibraryExists(library, providerFolder)
                : System.Runtime.InteropServices.NativeLibrary.TryLoad(library, out _);
            if (!loaded) return library;
        }
        return null;
    }

    /// <summary>The provider library sits beside onnxruntime's own, in the app folder or the package's runtimes folder.</summary>
    private static bool ProviderLibraryExists(string library, string assemblyFolder)
    {
        var rid = OperatingSystem.IsWindows() ? "win-x64" : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, library),
            Path.Combine(assemblyFolder, library),
            Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", library),
        ];
        return candidates.Any(File.Exists);
    }

    public static InferenceSession CreateSession(string modelPath, ExecutionProviderChoice provider)
    {
        using var options = SessionOptionsFor(provider);
        return new InferenceSession(modelPath, options);
    }

    /// <summary>
    /// A CPU session whose runs stay on the calling thread (one intra-op thread of its own, so no pool to wake): faster
    /// than the shared pool for small runs (<see cref="GraphSession"/>). Same graph optimisations as the pooled sessions.
    /// </summary>
    public static InferenceSession CreateInlineSession(string modelPath)
    {
        EnsureEnvironment();
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
        };
        return new InferenceSession(modelPath, options);
    }

    /// <summary>
    /// A session as the service opens it, that also writes ONNX Runtime's per-node profile (JSON) to a file starting
    /// with <paramref name="profilePrefix"/>; <see cref="InferenceSession.EndProfiling"/> names the file. For tools.
    /// </summary>
    public static InferenceSession CreateProfilingSession(string modelPath, ExecutionProviderChoice provider, string profilePrefix)
    {
        using var options = SessionOptionsFor(provider);
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = profilePrefix;
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
            if (provider.IsCuda) AppendCuda(options, provider);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private static void AppendCuda(SessionOptions options, ExecutionProviderChoice provider)
    {
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string>
        {
            ["device_id"] = provider.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = provider.ConvAlgorithmSearch.ToString().ToUpperInvariant(),
        });
        options.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>An ONNX Runtime message up to its first line break: enough for a log line or a reason.</summary>
    internal static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
