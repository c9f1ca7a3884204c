using System.ComponentModel.DataAnnotations;

namespace ScanService.Api.Rest;

/// <summary>Configuration section "Limits": how much one request may carry.</summary>
public sealed class RequestLimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Body of one image (POST /v1/classify); larger requests get 413.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Body of a request that carries several images or a tensor (POST /v1/classify/batch, POST /v2/.../infer).</summary>
    [Range(1, long.MaxValue)]
    public long MaxBatchRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Images (or tensor rows) in one request; more get 413.</summary>
    [Range(1, 4096)]
    public int MaxBatchImages { get; set; } = 64;
}
