namespace ScanService.Benchmarks.Targets;

/// <summary>Something a benchmark client sends requests to: images by index into the test set.</summary>
public interface IClassifyTarget
{
    /// <summary>Classifies test images <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1 as one request.</summary>
    Task<Answer[]> ClassifyAsync(int first, int count, CancellationToken cancellationToken);
}
