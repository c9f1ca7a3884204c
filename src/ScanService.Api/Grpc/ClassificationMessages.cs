using ScanService.Protocols.Scan.V1;
using ScanService.Api.Serving;

namespace ScanService.Api.Grpc;

/// <summary>Between scan.v1 messages and the classifier's requests and answers (<see cref="Classification"/> here is the message).</summary>
internal static class ClassificationMessages
{
    /// <summary>The request's options, with the meanings every front end shares (<see cref="RequestOptions"/>).</summary>
    public static RequestOptions ToRequestOptions(ClassifyOptions? options) =>
        options is null
            ? RequestOptions.Default
            : RequestOptions.Create(
                options.OperatingPoint,
                options.HasMaxExit ? options.MaxExit : null,
                options.FullDepth,
                options.Ensemble,
                options.HasTopK ? options.TopK : null,
                options.HasDegrade ? options.Degrade : null);

    public static ReadOnlyMemory<byte> RequireImage(ClassifyRequest request, ServingLimits limits)
    {
        if (request.Image.IsEmpty) throw GrpcStatusMapping.InvalidArgument("image is empty: send the encoded image's bytes");
        limits.CheckImageBytes(request.Image.Length);
        return request.Image.Memory;
    }

    public static Classification ToMessage(Classifier.Classification answer, int topK)
    {
        var labels = answer.Model.Manifest.Labels;
        var message = new Classification
        {
            Label = answer.Label,
            ClassIndex = answer.Prediction.ClassIndex,
            Confidence = answer.Prediction.Confidence,
            Exit = answer.Prediction.Exit,
            ExitCount = answer.ExitCount,
            OperatingPoint = answer.Plan.OperatingPoint ?? "",
            Degraded = answer.Degraded,
            ExitMode = answer.Plan.Mode switch
            {
                Core.Inference.ExitMode.EarlyExit => Protocols.Scan.V1.ExitMode.EarlyExit,
                Core.Inference.ExitMode.FullDepth => Protocols.Scan.V1.ExitMode.FullDepth,
                Core.Inference.ExitMode.Ensemble => Protocols.Scan.V1.ExitMode.Ensemble,
                _ => Protocols.Scan.V1.ExitMode.Unspecified,
            },
            ModelName = answer.Model.Name,
            ModelVersion = answer.Model.Version,
        };
        foreach (var (classIndex, probability) in answer.Prediction.Top(topK))
            message.TopK.Add(new ClassScore { ClassIndex = classIndex, Label = labels[classIndex], Probability = probability });
        return message;
    }

    /// <summary>Classifies one request's image with its options.</summary>
    public static async Task<Classification> ClassifyAsync(this Classifier.ImageClassifier classifier, ClassifyRequest request, ServingLimits limits, CancellationToken cancellationToken)
    {
        var options = ToRequestOptions(request.Options);
        var image = RequireImage(request, limits);
        var answers = await classifier.ClassifyImagesAsync([image], options.Inference, cancellationToken);
        return ToMessage(answers[0], options.TopK);
    }
}
