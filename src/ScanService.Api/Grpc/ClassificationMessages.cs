using ScanService.Api.Grpc.V1;
using ScanService.Core.Inference;

namespace ScanService.Api.Grpc;

/// <summary>Between scan.v1 messages and the classifier's requests and answers (<see cref="Classification"/> here is the message).</summary>
internal static class ClassificationMessages
{
    /// <summary>The engine's options for a request; what only the loaded model can judge (operating point names, exit range) it judges.</summary>
    public static InferenceOptions ToInferenceOptions(ClassifyOptions? options)
    {
        if (options is null) return InferenceOptions.Default;
        if (options.TopK < 0) throw GrpcStatusMapping.InvalidArgument($"top_k must not be negative, got {options.TopK}");
        return new InferenceOptions
        {
            OperatingPoint = string.IsNullOrEmpty(options.OperatingPoint) ? null : options.OperatingPoint,
            MaxExit = options.HasMaxExit ? options.MaxExit : null,
            FullDepth = options.FullDepth,
            Ensemble = options.Ensemble,
        };
    }

    public static ReadOnlyMemory<byte> RequireImage(ClassifyRequest request) =>
        request.Image.IsEmpty ? throw GrpcStatusMapping.InvalidArgument("image is empty: send the encoded image's bytes") : request.Image.Memory;

    public static Classification ToMessage(Inference.Classification answer, int topK)
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
            ExitMode = answer.Plan.Mode switch
            {
                Core.Inference.ExitMode.EarlyExit => V1.ExitMode.EarlyExit,
                Core.Inference.ExitMode.FullDepth => V1.ExitMode.FullDepth,
                Core.Inference.ExitMode.Ensemble => V1.ExitMode.Ensemble,
                _ => V1.ExitMode.Unspecified,
            },
            ModelName = answer.Model.Name,
            ModelVersion = answer.Model.Version,
        };
        foreach (var (classIndex, probability) in answer.Prediction.Top(topK))
            message.TopK.Add(new ClassScore { ClassIndex = classIndex, Label = labels[classIndex], Probability = probability });
        return message;
    }

    /// <summary>Classifies one request's image with its options.</summary>
    public static async Task<Classification> ClassifyAsync(this Inference.ImageClassifier classifier, ClassifyRequest request, CancellationToken cancellationToken)
    {
        var options = ToInferenceOptions(request.Options);
        var image = RequireImage(request);
        var answers = await classifier.ClassifyImagesAsync([image], options, cancellationToken);
        return ToMessage(answers[0], request.Options?.TopK ?? 0);
    }
}
