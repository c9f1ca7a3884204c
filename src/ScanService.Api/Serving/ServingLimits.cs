using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using ScanService.Core.Batching;

namespace ScanService.Api.Serving;

/// <summary>
/// Configuration section "Limits": how much one request may carry. Every front end (REST, Open Inference Protocol
/// REST and gRPC, scan.v1 gRPC unary and streaming) applies these same numbers, with the same messages.
/// </summary>
public sealed class ServingLimits
{
    public const string Section = "Limits";

    /// <summary>
    /// One image: the body of POST /v1/classify, a scan.v1 Classify request, one ClassifyStream item. Larger ones get
    /// 413 (REST) or RESOURCE_EXHAUSTED (gRPC; a streamed item gets it as its own error answer and the stream goes on).
    /// </summary>
    [Range(1, int.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// A request that carries several images or a tensor (POST /v1/classify/batch, POST /v2/.../infer, ModelInfer).
    /// Also the largest gRPC message the server reads at all (or one image and its <see cref="EnvelopeBytes"/>, if
    /// that is more): a ClassifyStream item past it ends the call, after every item read before it has been answered.
    /// </summary>
    [Range(1, int.MaxValue)]
    public long MaxBatchRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Images (or tensor rows) in one request; more get 413 / RESOURCE_EXHAUSTED. Lowered to half the batcher's queue
    /// when the queue is smaller than twice this.
    /// </summary>
    [Range(1, 4096)]
    public int MaxBatchImages { get; set; } = 64;

    /// <summary>
    /// Room for what surrounds one image on the wire (multipart headers, a protobuf envelope): the transport lets a
    /// request that much past <see cref="MaxRequestBodyBytes"/> through, so that the image itself is measured and
    /// refused with the same message on every front end.
    /// </summary>
    public const int EnvelopeBytes = 64 * 1024;

    /// <summary>Refuses a request of more than <see cref="MaxBatchImages"/> images.</summary>
    public void CheckImageCount(long count)
    {
        if (count > MaxBatchImages)
            throw new RequestTooLargeException($"The request holds {count} images; at most {MaxBatchImages} are accepted per request.");
    }

    /// <summary>Refuses one encoded image larger than <see cref="MaxRequestBodyBytes"/>; <paramref name="index"/> is its place in a batch.</summary>
    public void CheckImageBytes(long length, int? index = null)
    {
        if (length > MaxRequestBodyBytes)
            throw new RequestTooLargeException($"{(index is { } i ? $"Image {i}" : "The image")} is {length} bytes; one image may have at most {MaxRequestBodyBytes} bytes.");
    }
}

/// <summary>Checks the limits against each other.</summary>
internal sealed class ServingLimitsValidation : IValidateOptions<ServingLimits>
{
    public ValidateOptionsResult Validate(string? name, ServingLimits limits) =>
        limits.MaxRequestBodyBytes > limits.MaxBatchRequestBodyBytes
            ? ValidateOptionsResult.Fail($"Limits:MaxRequestBodyBytes ({limits.MaxRequestBodyBytes}) must not exceed Limits:MaxBatchRequestBodyBytes ({limits.MaxBatchRequestBodyBytes})")
            : ValidateOptionsResult.Success;
}

/// <summary>
/// One request can never take more than half of the batcher's queue, so that others always find room: with a queue
/// smaller than twice <see cref="ServingLimits.MaxBatchImages"/>, the per-request limit comes down to half the queue
/// (at least one image), on every front end alike.
/// </summary>
internal sealed class ServingLimitsFromQueue(IOptions<BatchingOptions> batching) : IPostConfigureOptions<ServingLimits>
{
    public void PostConfigure(string? name, ServingLimits limits)
    {
        var queue = batching.Value;
        if (queue.Enabled) limits.MaxBatchImages = Math.Min(limits.MaxBatchImages, Math.Max(1, queue.QueueCapacity / 2));
    }
}
