using ScanService.Core.Inference;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Benchmarks;

public enum ModeKind
{
    /// <summary>(a) The monolithic full-depth graph: what a user would serve without SCAN.</summary>
    Monolithic,
    /// <summary>(b) The chained stage graphs at full depth: (a)'s work plus the cost of chaining.</summary>
    ChainedFullDepth,
    /// <summary>(c) Early exit at one of the bundle's operating points.</summary>
    EarlyExit,
}

/// <summary>One way of serving the test set, and how each client asks for it.</summary>
public sealed record ServingMode(string Name, ModeKind Kind, string? OperatingPoint)
{
    public static readonly ServingMode Monolithic = new("monolithic", ModeKind.Monolithic, null);
    public static readonly ServingMode ChainedFullDepth = new("full-depth", ModeKind.ChainedFullDepth, null);

    public static ServingMode EarlyExit(string operatingPoint) => new(operatingPoint, ModeKind.EarlyExit, operatingPoint);

    public string Label => Kind switch
    {
        ModeKind.Monolithic => "(a) monolithic",
        ModeKind.ChainedFullDepth => "(b) chained, full depth",
        _ => $"(c) early exit, {OperatingPoint}",
    };

    /// <summary>The engine's options; the monolithic graph has none (it is not a plan of the chain).</summary>
    public InferenceOptions Options => Kind switch
    {
        ModeKind.ChainedFullDepth => new InferenceOptions { FullDepth = true },
        ModeKind.EarlyExit => new InferenceOptions { OperatingPoint = OperatingPoint },
        _ => throw new InvalidOperationException("the monolithic graph is not served through a plan"),
    };

    /// <summary>The query string of POST /v1/classify.</summary>
    public string Query => Kind == ModeKind.EarlyExit ? $"operatingPoint={Uri.EscapeDataString(OperatingPoint!)}&topK=1" : "fullDepth=true&topK=1";

    public ClassifyOptions GrpcOptions => Kind == ModeKind.EarlyExit
        ? new ClassifyOptions { OperatingPoint = OperatingPoint, TopK = 1 }
        : new ClassifyOptions { FullDepth = true, TopK = 1 };
}

/// <summary>One image's answer: its class and the exit (1-based) that gave it.</summary>
public readonly record struct Answer(int Class, int Exit);
