using ScanService.Core.Batching;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks;

/// <summary>Everything one benchmark run was asked to do; written beside its results.</summary>
public sealed record BenchmarkSettings
{
    public required string BundlePath { get; init; }
    public required string DataFolder { get; init; }
    public required string ServiceDll { get; init; }
    public required string OutputFolder { get; init; }
    /// <summary>Test images used: the first N of the 10,000.</summary>
    public required int Limit { get; init; }
    /// <summary>Longest each row (a mode in a group) runs, over all its rounds; 0 serves every image.</summary>
    public required double SecondsPerRow { get; init; }
    /// <summary>Each group runs its modes in turn this many times, so that a change in the machine's background load hits every mode alike.</summary>
    public required int Rounds { get; init; }
    public required IReadOnlyList<int> Clients { get; init; }
    public required IReadOnlyList<string> Transports { get; init; }
    public required int LargeBatch { get; init; }
    public required int MaxBatchSize { get; init; }
    public required double MaxDelayMilliseconds { get; init; }
    public double DeepStageDelayMilliseconds { get; init; }
    public required int QueueCapacity { get; init; }
    public required ExecutionProviderPreference Provider { get; init; }
    public FeatureMemory FeatureMemory { get; init; } = FeatureMemory.Auto;
    /// <summary>The in-process engine's fixed batch; null: the larger of the two batch sizes under CUDA, none on CPU.</summary>
    public int? FixedBatch { get; init; }

    /// <summary>Runs of at most this many multiply-adds stay on the calling thread (in process and in the service); 0: every run on the shared pool.</summary>
    public long InlineMaxMultiplyAdds { get; init; } = EarlyExitEngine.DefaultInlineMaxMultiplyAdds;

    /// <summary>ONNX Runtime's pool threads spin (in process and in the service).</summary>
    public bool IntraOpSpinning { get; init; }

    public int FixedBatchFor(ExecutionProviderChoice provider) => FixedBatch ?? (provider.IsCuda ? Math.Max(MaxBatchSize, LargeBatch) : 0);
    public required bool Quick { get; init; }
    public required string Command { get; init; }

    public const string InProcess = "in-process";
    public const string Http = "http";
    public const string Grpc = "grpc";

    public BatchingOptions Batching => new() { MaxBatchSize = MaxBatchSize, MaxDelayMilliseconds = MaxDelayMilliseconds, DeepStageDelayMilliseconds = DeepStageDelayMilliseconds, QueueCapacity = QueueCapacity };

    /// <summary>The service's configuration for the same batching.</summary>
    public IReadOnlyDictionary<string, string> ServiceSettings => new Dictionary<string, string>
    {
        ["Model:BundlePath"] = Path.GetFullPath(BundlePath),
        ["Model:IntraOpSpinning"] = IntraOpSpinning ? "true" : "false",
        ["Batching:Enabled"] = "true",
        ["Batching:MaxBatchSize"] = $"{MaxBatchSize}",
        ["Batching:MaxDelayMilliseconds"] = $"{MaxDelayMilliseconds}",
        ["Batching:DeepStageDelayMilliseconds"] = $"{DeepStageDelayMilliseconds}",
        ["Batching:QueueCapacity"] = $"{QueueCapacity}",
        // A log line per request would cost more than some requests.
        ["Logging:LogLevel:Default"] = "Warning",
        ["Model:InlineMaxMultiplyAdds"] = $"{InlineMaxMultiplyAdds}",
    };
}
