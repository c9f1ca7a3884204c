using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using ScanService.Api.Classifier;
using ScanService.Api.Rest;
using ScanService.Api.Serving;
using ScanService.Api.ModelLoading;
using static ScanService.Api.OpenInference.InferenceProtocol;

namespace ScanService.Api.OpenInference.Rest;

/// <summary>
/// The Open Inference Protocol (KServe v2) REST routes, so that existing inference clients can call the service.
/// Errors here are <c>{"error": "..."}</c>, as the protocol has them.
/// </summary>
public static class InferenceProtocolApi
{
    public const string Prefix = "/v2";

    public static bool Serves(PathString path) => path.StartsWithSegments(Prefix);

    public static IEndpointRouteBuilder MapInferenceProtocolApi(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ServingLimits>>().Value;
        var v2 = app.MapGroup(Prefix)
            .WithTags("Open Inference Protocol v2")
            .ProducesInferenceError(StatusCodes.Status500InternalServerError);

        v2.MapGet("", GetServerMetadata).WithName("ServerMetadata");
        // Probes may use HEAD (as load balancers do): same status, no body.
        v2.MapMethods("/health/live", [HttpMethods.Get, HttpMethods.Head], Live).WithName("ServerLive");
        v2.MapMethods("/health/ready", [HttpMethods.Get, HttpMethods.Head], Ready).WithName("ServerReady")
            .Produces<InferenceError>(StatusCodes.Status503ServiceUnavailable);

        var models = v2.MapGroup("/models")
            .ProducesInferenceError(StatusCodes.Status404NotFound)
            .ProducesInferenceError(StatusCodes.Status503ServiceUnavailable);
        models.MapGet("/{name}", GetModelMetadata).WithName("ModelMetadata");
        models.MapGet("/{name}/versions/{version}", GetModelVersionMetadata).WithName("ModelVersionMetadata");
        models.MapGet("/{name}/ready", ModelReady).WithName("ModelReady");
        models.MapGet("/{name}/versions/{version}/ready", ModelVersionReady).WithName("ModelVersionReady");
        ConfigureInfer(models.MapPost("/{name}/infer", Infer).WithName("ModelInfer"), limits);
        ConfigureInfer(models.MapPost("/{name}/versions/{version}/infer", InferVersion).WithName("ModelVersionInfer"), limits);
        return app;
    }

    private static RouteGroupBuilder ProducesInferenceError(this RouteGroupBuilder group, int statusCode) =>
        group.WithMetadata(new ProducesResponseTypeMetadata(statusCode, typeof(InferenceError), ["application/json"]));

    private static void ConfigureInfer(RouteHandlerBuilder infer, ServingLimits limits) => infer
        // JSON; or, under the binary data extension, JSON and then binary tensors (Inference-Header-Content-Length).
        .Accepts<InferRequest>("application/json", "application/octet-stream")
        .Produces<InferResponse>(StatusCodes.Status200OK, "application/json", "application/octet-stream")
        .WithRequestBodyLimit(limits.MaxBatchRequestBodyBytes)
        .Produces<InferenceError>(StatusCodes.Status400BadRequest)
        .Produces<InferenceError>(StatusCodes.Status413PayloadTooLarge)
        .Produces<InferenceError>(StatusCodes.Status415UnsupportedMediaType)
        .Produces<InferenceError>(StatusCodes.Status429TooManyRequests);

    /// <summary>Server metadata: name, version and the protocol extensions supported.</summary>
    public static Ok<ServerMetadataResponse> GetServerMetadata() => TypedResults.Ok(new ServerMetadataResponse
    {
        Name = ServerName,
        Version = ServerVersion,
        Extensions = [BinaryTensorData.Extension, "parameters"],
    });

    /// <summary>Liveness: 200 as long as the process answers, whether or not a model is loaded.</summary>
    /// <response code="200">The server is live (empty body).</response>
    public static Ok Live() => TypedResults.Ok();

    /// <summary>Readiness: 200 once the model is loaded and can answer, 503 before (or when it failed to load).</summary>
    /// <response code="200">Ready (empty body).</response>
    /// <response code="503">Not ready.</response>
    public static Results<Ok, JsonHttpResult<InferenceError>> Ready(ModelSlot host) =>
        host.IsReady ? TypedResults.Ok() : NotReady();

    /// <summary>Model metadata: name, versions, platform, inputs and outputs.</summary>
    /// <param name="name">The model's name (see GET /v1/model).</param>
    /// <param name="classifier">The classifier, which knows the loaded model.</param>
    public static Results<Ok<ModelMetadataResponse>, NotFound<InferenceError>> GetModelMetadata(string name, ImageClassifier classifier) =>
        GetModelVersionMetadata(name, null, classifier);

    /// <summary>Model metadata for one version of the model.</summary>
    /// <param name="name">The model's name.</param>
    /// <param name="version">The model's version.</param>
    /// <param name="classifier">The classifier, which knows the loaded model.</param>
    public static Results<Ok<ModelMetadataResponse>, NotFound<InferenceError>> GetModelVersionMetadata(string name, string? version, ImageClassifier classifier)
    {
        var (model, notFound) = Find(classifier, name, version);
        if (model is null) return notFound!;
        return TypedResults.Ok(new ModelMetadataResponse
        {
            Name = model.Name,
            Versions = [model.Version],
            Platform = Platform,
            Inputs = InputsOf(model).Select(t => new TensorMetadata(t.Name, t.Datatype, t.Shape)).ToList(),
            Outputs = OutputsOf(model).Select(t => new TensorMetadata(t.Name, t.Datatype, t.Shape)).ToList(),
        });
    }

    /// <summary>Model readiness: 200 when this model is loaded and can answer.</summary>
    /// <param name="name">The model's name.</param>
    /// <param name="classifier">The classifier, which knows the loaded model.</param>
    /// <response code="200">Ready (empty body).</response>
    public static Results<Ok, NotFound<InferenceError>> ModelReady(string name, ImageClassifier classifier) =>
        ModelVersionReady(name, null, classifier);

    /// <summary>Model readiness for one version of the model.</summary>
    /// <param name="name">The model's name.</param>
    /// <param name="version">The model's version.</param>
    /// <param name="classifier">The classifier, which knows the loaded model.</param>
    /// <response code="200">Ready (empty body).</response>
    public static Results<Ok, NotFound<InferenceError>> ModelVersionReady(string name, string? version, ImageClassifier classifier)
    {
        var (model, notFound) = Find(classifier, name, version);
        return model is null ? notFound! : TypedResults.Ok();
    }

    /// <summary>
    /// Classifies a batch given either as the FP32 tensor <c>input</c> (N×C×H×W, already preprocessed) or as the BYTES
    /// input <c>image</c> (one base64-encoded PNG, JPEG, BMP, WebP or GIF per element). Request parameters
    /// <c>operating_point</c>, <c>max_exit</c>, <c>full_depth</c> and <c>ensemble</c> choose how deep the model goes.
    /// The binary data extension is supported both ways: with an <c>Inference-Header-Content-Length</c> header the body is
    /// that many bytes of JSON followed by the input tensor (its <c>binary_data_size</c> parameter instead of
    /// <c>data</c>); outputs asked for with <c>binary_data: true</c> (or all, with the request parameter
    /// <c>binary_data_output</c>) come back the same way. A JSON request may have no content type.
    /// </summary>
    /// <param name="name">The model's name.</param>
    /// <param name="request">The HTTP request carrying the JSON body.</param>
    /// <param name="classifier">The classifier.</param>
    /// <param name="limits">Request limits.</param>
    /// <param name="json">The service's JSON settings.</param>
    /// <param name="cancellationToken">Aborted with the request.</param>
    /// <response code="200">One row per sample in every output.</response>
    /// <response code="400">Malformed JSON; a wrong input name, datatype or shape; data that does not match the shape; NaN or infinite values; an undecodable image; an unknown operating point or max_exit out of range.</response>
    /// <response code="404">No model (or version) of that name is served.</response>
    /// <response code="413">The body is larger than the configured limit, or it holds more samples than allowed.</response>
    /// <response code="415">The body is not application/json.</response>
    /// <response code="503">The model is not loaded.</response>
    public static Task<Results<Ok<InferResponse>, BinaryInferResult, NotFound<InferenceError>>> Infer(
        string name, HttpRequest request, ImageClassifier classifier, IOptions<ServingLimits> limits, IOptions<JsonOptions> json, CancellationToken cancellationToken) =>
        InferVersion(name, null, request, classifier, limits, json, cancellationToken);

    /// <summary>Classifies a batch with one version of the model; see POST /v2/models/{name}/infer.</summary>
    /// <param name="name">The model's name.</param>
    /// <param name="version">The model's version.</param>
    /// <param name="request">The HTTP request carrying the JSON body.</param>
    /// <param name="classifier">The classifier.</param>
    /// <param name="limits">Request limits.</param>
    /// <param name="json">The service's JSON settings.</param>
    /// <param name="cancellationToken">Aborted with the request.</param>
    /// <response code="200">One row per sample in every output.</response>
    /// <response code="400">Malformed JSON; a wrong input name, datatype or shape; data that does not match the shape; NaN or infinite values; an undecodable image; an unknown operating point or max_exit out of range.</response>
    /// <response code="404">No model (or version) of that name is served.</response>
    /// <response code="413">The body is larger than the configured limit, or it holds more samples than allowed.</response>
    /// <response code="415">The body is not application/json.</response>
    /// <response code="503">The model is not loaded.</response>
    public static async Task<Results<Ok<InferResponse>, BinaryInferResult, NotFound<InferenceError>>> InferVersion(
        string name, string? version, HttpRequest request, ImageClassifier classifier, IOptions<ServingLimits> limits, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var (model, notFound) = Find(classifier, name, version);
        if (model is null) return notFound!;
        var body = await InferRequestReader.ReadAsync(request, json.Value.SerializerOptions, cancellationToken);
        var input = InferRequestReader.Parse(body, model, limits.Value);
        var results = input.Tensor is { } tensor
            ? await classifier.ClassifyTensorAsync(tensor, input.Count, model.Engine.SampleSize, input.Options, cancellationToken)
            : await classifier.ClassifyBatchAsync(input.Images!, input.Options, cancellationToken);
        var (answer, binary) = InferRequestReader.Answer(body.Request, results[0].Model, results, input);
        return binary.Count == 0 ? TypedResults.Ok(answer) : new BinaryInferResult(answer, binary);
    }

    /// <summary>The loaded model when it has this name (and version); 503 through <see cref="ModelNotReadyException"/> when none is loaded.</summary>
    private static (LoadedModel? Model, NotFound<InferenceError>? NotFound) Find(ImageClassifier classifier, string name, string? version)
    {
        var model = classifier.RequireModel();
        return InferenceProtocol.Serves(model, name, version) ? (model, null) : (null, TypedResults.NotFound(new InferenceError(NotServed(model, name, version))));
    }

    private static JsonHttpResult<InferenceError> NotReady() =>
        TypedResults.Json(new InferenceError("The model is not loaded yet, or failed to load."), statusCode: StatusCodes.Status503ServiceUnavailable);

}
