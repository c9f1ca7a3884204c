using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using ScanService.Api.OpenInference.Rest;

namespace ScanService.Api.Rest;

/// <summary>
/// The REST front end: the image endpoints and model summary under /v1, the Open Inference Protocol under /v2,
/// Swagger UI at /swagger. Errors are RFC 7807 problem details, and <c>{"error": ...}</c> under /v2.
/// </summary>
public static class RestExtensions
{
    public const string OpenApiDocument = "scanservice";

    public static IHostApplicationBuilder AddScanRest(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        // Registered before AddProblemDetails so that it is asked first: /v2 errors take the protocol's shape.
        services.AddSingleton<IProblemDetailsWriter, InferenceProtocolErrorWriter>();
        services.AddProblemDetails();
        services.AddExceptionHandler<ScanExceptionHandler>();
        // Query values that do not parse (maxExit=abc) throw, so that they reach the exception handler and get a body.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));

        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(OpenApiDocument, new OpenApiInfo
            {
                Title = "ScanService",
                Version = "v1",
                Description = "Early-exit image classification (SCAN): each image leaves the network at the first exit confident enough. "
                    + "/v1 is the service's own API; /v2 is the Open Inference Protocol (KServe v2).",
            });
            options.IncludeXmlComments(typeof(RestExtensions).Assembly);
            options.SupportNonNullableReferenceTypes();
            options.OperationFilter<ImageUploadOperationFilter>();
            options.OperationFilter<RequestOptionsOperationFilter>();
        });
        return builder;
    }

    public static WebApplication UseScanRest(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Unknown routes and wrong methods get a body too: problem details, or the protocol's error under /v2.
        app.UseStatusCodePages();
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint($"/swagger/{OpenApiDocument}/swagger.json", "ScanService");
            options.DocumentTitle = "ScanService API";
        });
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }

    public static IEndpointRouteBuilder MapScanRest(this IEndpointRouteBuilder app)
    {
        app.MapClassifyApi();
        app.MapModelApi();
        app.MapInferenceProtocolApi();
        return app;
    }
}
