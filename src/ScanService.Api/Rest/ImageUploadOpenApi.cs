using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ScanService.Api.Rest;

/// <summary>Endpoint metadata: the body is read by hand as images, so OpenAPI learns its shape from here.</summary>
/// <param name="Field">The multipart file field.</param>
/// <param name="AcceptsRawBody">Whether a raw image body is accepted too.</param>
/// <param name="Multiple">Whether the field (or any field) may repeat, one image per part.</param>
public sealed record ImageUploadBody(string Field, bool AcceptsRawBody, bool Multiple);

/// <summary>Documents <see cref="ImageUploadBody"/> endpoints: binary image content types and the multipart form.</summary>
internal sealed class ImageUploadOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var upload = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ImageUploadBody>().FirstOrDefault();
        if (upload is null) return;

        var content = new Dictionary<string, IOpenApiMediaType>();
        if (upload.AcceptsRawBody)
        {
            foreach (var type in ImageUploads.RawContentTypes)
                content[type] = new OpenApiMediaType { Schema = Binary("The encoded image; its format is recognised from the data.") };
        }
        IOpenApiSchema field = upload.Multiple
            ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = Binary("One encoded image."), Description = "One file part per image; any field name is accepted." }
            : Binary("The encoded image.");
        content[ImageUploads.Multipart] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema> { [upload.Field] = field },
                Required = new HashSet<string> { upload.Field },
            },
        };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = upload.AcceptsRawBody
                ? "A PNG, JPEG, BMP, WebP or GIF image as the body, or as the multipart file field '" + upload.Field + "'."
                : "PNG, JPEG, BMP, WebP or GIF images, one multipart file part each.",
            Content = content,
        };
    }

    private static OpenApiSchema Binary(string description) =>
        new() { Type = JsonSchemaType.String, Format = "binary", Description = description };
}
