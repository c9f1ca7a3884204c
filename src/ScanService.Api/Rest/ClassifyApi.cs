using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ScanService.Api.Classifier;
using ScanService.Api.Serving;

namespace ScanService.Api.Rest;

/// <summary>The image endpoints: one image, or a batch of them in one multipart request.</summary>
public static class ClassifyApi
{
    public static IEndpointRouteBuilder MapClassifyApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ServingLimits>>().Value;
        var api = app.MapGroup("/v1/classify")
            .WithTags("Classification")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("", ClassifyImage)
            .WithName("ClassifyImage")
            .WithRequestBodyLimit(limits.MaxRequestBodyBytes + ServingLimits.EnvelopeBytes)
            .WithMetadata(new ImageUploadBody(ImageUploads.SingleField, AcceptsRawBody: true, Multiple: false));

        api.MapPost("/batch", ClassifyBatch)
            .WithName("ClassifyBatch")
            .WithRequestBodyLimit(limits.MaxBatchRequestBodyBytes)
            .WithMetadata(new ImageUploadBody("images", AcceptsRawBody: false, Multiple: true));
        return app;
    }

    /// <summary>
    /// Classifies one image, sent as the raw body (image/png, image/jpeg, image/bmp, image/webp, image/gif or
    /// application/octet-stream) or as the file field <c>image</c> of a multipart/form-data body.
    /// </summary>
    /// <param name="request">The HTTP request carrying the image.</param>
    /// <param name="classifier">The classifier.</param>
    /// <param name="limits">Request limits.</param>
    /// <param name="operatingPoint">Named threshold set (see GET /v1/model); the model's default when absent. Not with fullDepth or ensemble.</param>
    /// <param name="maxExit">Deepest exit allowed, 1 to the model's exit count; the image answers there if no earlier exit fired.</param>
    /// <param name="fullDepth">No early exit: answer at the deepest allowed exit. Not with ensemble or operatingPoint.</param>
    /// <param name="ensemble">Answer with the mean of every allowed exit's logits. Not with fullDepth or operatingPoint.</param>
    /// <param name="topK">How many of the most probable classes to list: at least 1, 5 when absent; above the number of classes lists them all.</param>
    /// <param name="degrade">false keeps a request without an operating point at the default one when the service is overloaded (graceful degradation may otherwise serve it at a cheaper point of the model's front); true when absent.</param>
    /// <param name="cancellationToken">Aborted with the request.</param>
    /// <response code="200">The answer, with the exit that gave it.</response>
    /// <response code="400">The image cannot be decoded (or declares more pixels than accepted), or an option does not fit the model.</response>
    /// <response code="413">The body is larger than the configured limit.</response>
    /// <response code="415">The content type is not an image type, octet-stream or multipart/form-data.</response>
    /// <response code="503">The model is not loaded.</response>
    public static async Task<Ok<ClassifyResponse>> ClassifyImage(
        HttpRequest request,
        ImageClassifier classifier,
        IOptions<ServingLimits> limits,
        string? operatingPoint = null,
        int? maxExit = null,
        bool fullDepth = false,
        bool ensemble = false,
        int? topK = null,
        bool? degrade = null,
        CancellationToken cancellationToken = default)
    {
        var options = RequestOptions.Create(operatingPoint, maxExit, fullDepth, ensemble, topK, degrade);
        var image = await ImageUploads.ReadSingleAsync(request, limits.Value, cancellationToken);
        var results = await classifier.ClassifyImagesAsync([image], options.Inference, cancellationToken);
        return TypedResults.Ok(ClassifyResponse.From(results[0], options.TopK));
    }

    /// <summary>
    /// Classifies several images sent as the file parts of one multipart/form-data body (any field names, e.g.
    /// <c>images</c>); answers in the order of the parts. An image that cannot be decoded fails the batch with 400,
    /// naming the part by index (0-based), field and file name.
    /// </summary>
    /// <param name="request">The HTTP request carrying the images.</param>
    /// <param name="classifier">The classifier.</param>
    /// <param name="operatingPoint">Named threshold set (see GET /v1/model); the model's default when absent. Not with fullDepth or ensemble.</param>
    /// <param name="maxExit">Deepest exit allowed, 1 to the model's exit count.</param>
    /// <param name="fullDepth">No early exit: answer at the deepest allowed exit. Not with ensemble or operatingPoint.</param>
    /// <param name="ensemble">Answer with the mean of every allowed exit's logits. Not with fullDepth or operatingPoint.</param>
    /// <param name="topK">How many of the most probable classes to list per image: at least 1, 5 when absent; above the number of classes lists them all.</param>
    /// <param name="limits">Request limits.</param>
    /// <param name="degrade">false keeps a request without an operating point at the default one when the service is overloaded (graceful degradation may otherwise serve it at a cheaper point of the model's front); true when absent.</param>
    /// <param name="cancellationToken">Aborted with the request.</param>
    /// <response code="200">One answer per image, in order.</response>
    /// <response code="400">An image cannot be decoded (the problem's <c>index</c> and <c>part</c> say which), no file parts, or an option does not fit the model.</response>
    /// <response code="413">The body is larger than the configured limit, or it holds more images than allowed.</response>
    /// <response code="415">The content type is not multipart/form-data.</response>
    /// <response code="503">The model is not loaded.</response>
    public static async Task<Ok<BatchClassifyResponse>> ClassifyBatch(
        HttpRequest request,
        ImageClassifier classifier,
        IOptions<ServingLimits> limits,
        string? operatingPoint = null,
        int? maxExit = null,
        bool fullDepth = false,
        bool ensemble = false,
        int? topK = null,
        bool? degrade = null,
        CancellationToken cancellationToken = default)
    {
        var options = RequestOptions.Create(operatingPoint, maxExit, fullDepth, ensemble, topK, degrade);
        var images = await ImageUploads.ReadBatchAsync(request, limits.Value, cancellationToken);
        var results = await classifier.ClassifyBatchAsync(images, options.Inference, cancellationToken);
        return TypedResults.Ok(new BatchClassifyResponse(results.Select(r => ClassifyResponse.From(r, options.TopK)).ToList()));
    }
}
