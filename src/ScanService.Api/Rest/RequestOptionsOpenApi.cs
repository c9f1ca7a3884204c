using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using ScanService.Api.ModelLoading;
using ScanService.Api.Serving;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ScanService.Api.Rest;

/// <summary>
/// Documents the request options as <see cref="RequestOptions"/> defines them: the loaded model's operating points as
/// the allowed values of <c>operatingPoint</c> (with its default), and topK's default and minimum.
/// </summary>
internal sealed class RequestOptionsOperationFilter(ModelSlot host) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Parameters is null) return;
        foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>())
        {
            if (parameter.Schema is not OpenApiSchema schema) continue;
            switch (parameter.Name)
            {
                case "operatingPoint" when host.Current is { } model && model.Manifest.OperatingPoints.Count > 0:
                    // Every name a request may pin: the named points and the points of the front.
                    schema.Enum = model.Manifest.AllOperatingPoints.Select(p => (JsonNode)JsonValue.Create(p.Name)!).ToList();
                    if (model.Manifest.DefaultOperatingPoint is { } fallback)
                        parameter.Description += $" This model: {string.Join(", ", model.Manifest.OperatingPoints.Select(p => p.Name))}"
                            + (model.Manifest.ParetoFront.Count == 0 ? "" : $", and the points of its front, {model.Manifest.ParetoFront[0].Name} to {model.Manifest.ParetoFront[^1].Name}")
                            + $"; default {fallback}.";
                    break;
                case "degrade":
                    schema.Default = JsonValue.Create(true);
                    break;
                case "topK":
                    schema.Default = JsonValue.Create(RequestOptions.DefaultTopK);
                    schema.Minimum = "1";
                    break;
            }
        }
    }
}
