using Microsoft.AspNetCore.Http.HttpResults;
using ScanService.Api.Classifier;

namespace ScanService.Api.Rest;

/// <summary>Describes the loaded model: what it takes, what it answers and what its options cost.</summary>
public static class ModelApi
{
    public static IEndpointRouteBuilder MapModelApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/model")
            .WithTags("Model")
            .MapGet("", GetModel)
            .WithName("GetModel")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>The loaded model's manifest in summary: input, labels, exits with their cost, operating points with their figures, the execution provider.</summary>
    /// <param name="classifier">The classifier.</param>
    /// <response code="200">The model summary.</response>
    /// <response code="503">The model is not loaded.</response>
    public static Ok<ModelSummaryResponse> GetModel(ImageClassifier classifier)
    {
        var model = classifier.RequireModel();
        var manifest = model.Manifest;
        var input = manifest.Input;
        double fullDepth = manifest.FullDepthMultiplyAdds;
        return TypedResults.Ok(new ModelSummaryResponse
        {
            Name = model.Name,
            Version = model.Version,
            Input = new ModelInputSummary(input.Channels, input.Height, input.Width, input.ColorMode, input.Mean, input.Std, input.Resize, input.Invert),
            Labels = manifest.Labels,
            Exits = manifest.Exits
                .Select(e => new ExitSummary(e.Index, e.CumulativeMultiplyAdds, fullDepth > 0 ? e.CumulativeMultiplyAdds / fullDepth : 0))
                .ToList(),
            OperatingPoints = manifest.OperatingPoints
                .Select(p => new OperatingPointSummary(p.Name, p.Thresholds, p.ValidationAccuracy, p.RelativeCost, p.TestAccuracy, p.TestRelativeCost, p.TestExitShares))
                .ToList(),
            DefaultOperatingPoint = manifest.DefaultOperatingPoint,
            ExecutionProvider = new ExecutionProviderSummary(model.Engine.Provider.Name, model.Engine.Provider.Reason, model.Engine.FeatureMemory.ToString()),
        });
    }
}
