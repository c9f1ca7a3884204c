using Microsoft.AspNetCore.Http.HttpResults;
using ScanService.Api.Classifier;
using ScanService.Api.Degradation;
using ScanService.Core.Bundle;

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
    /// <param name="degradation">The graceful-degradation controller.</param>
    /// <response code="200">The model summary.</response>
    /// <response code="503">The model is not loaded.</response>
    public static Ok<ModelSummaryResponse> GetModel(ImageClassifier classifier, DegradationController degradation)
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
                .Select(e => new ExitSummary(e.Index, e.CumulativeMultiplyAdds, fullDepth > 0 ? e.CumulativeMultiplyAdds / fullDepth : 0, RelativeTime(manifest.Calibration, e.Index)))
                .ToList(),
            Calibration = manifest.Calibration,
            OperatingPoints = manifest.OperatingPoints.Select(Summary).ToList(),
            DefaultOperatingPoint = manifest.DefaultOperatingPoint,
            ParetoFront = manifest.ParetoFront.Select(Summary).ToList(),
            Degradation = Summary(degradation),
            ExecutionProvider = new ExecutionProviderSummary(model.Engine.Provider.Name, model.Engine.Provider.Reason, model.Engine.FeatureMemory.ToString(),
                model.Engine.FixedBatch == 0 ? null : model.Engine.FixedBatch,
                model.Engine.InlineMaxMultiplyAdds == 0 ? null : model.Engine.InlineMaxMultiplyAdds,
                model.Engine.InlineMaxMultiplyAdds == 0 ? null : model.Engine.InlineMaxRows.ToDictionary()),
        });
    }

    private static OperatingPointSummary Summary(OperatingPoint p) =>
        new(p.Name, p.Thresholds, p.ValidationAccuracy, p.RelativeCost, p.TestAccuracy, p.TestRelativeCost, p.TestExitShares, p.RelativeTime);

    /// <summary>Measured time of everything that runs until exit <paramref name="exit"/> answers (every head on the way), over the monolithic graph's.</summary>
    private static double? RelativeTime(CalibrationRecord? calibration, int exit) =>
        calibration is null || calibration.MonolithicMs <= 0
            ? null
            : (calibration.StageMs.Take(exit).Sum() + calibration.HeadMs.Take(exit).Sum()) / calibration.MonolithicMs;

    private static DegradationSummary Summary(DegradationController controller)
    {
        var options = controller.Options;
        var state = controller.State();
        return new DegradationSummary(
            state.Enabled,
            options.Signal == DegradationSignal.Latency ? "latency" : "queueWait",
            options.ObjectiveMilliseconds,
            options.Percentile,
            options.AccuracyFloor,
            state.Level,
            state.OperatingPoint,
            double.IsFinite(state.SignalMilliseconds) ? state.SignalMilliseconds : null,
            state.Samples,
            state.DegradedRequests,
            state.Ladder.Steps.Select(Summary).ToList(),
            state.Blocked,
            state.Ladder.Reason);
    }
}
