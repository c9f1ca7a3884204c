using Google.Protobuf;
using ScanService.Protocols.Scan.V1;

namespace ScanService.Benchmarks.Targets;

/// <summary>Unary scan.v1.ClassificationService/Classify with one PNG per call, all clients on one HTTP/2 channel.</summary>
public sealed class GrpcTarget(ClassificationService.ClassificationServiceClient client, ServingMode mode, IReadOnlyList<byte[]> pngs) : IClassifyTarget
{
    private readonly ByteString[] _images = pngs.Select(ByteString.CopyFrom).ToArray();
    private readonly ClassifyOptions _options = mode.GrpcOptions;

    public async Task<Answer[]> ClassifyAsync(int first, int count, CancellationToken cancellationToken)
    {
        if (count != 1) throw new ArgumentException("one image per Classify call", nameof(count));
        var response = await client.ClassifyAsync(new ClassifyRequest { Id = $"{first}", Image = _images[first], Options = _options }, cancellationToken: cancellationToken);
        return [new Answer(response.Classification.ClassIndex, response.Classification.Exit)];
    }
}
