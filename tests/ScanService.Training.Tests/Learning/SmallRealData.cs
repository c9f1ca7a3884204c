using ScanService.Core.Preprocessing;
using ScanService.Training.Data;

namespace ScanService.Training.Tests.Learning;

/// <summary>A few hundred real Fashion-MNIST images, loaded once for the tests that train.</summary>
public static class SmallRealData
{
    private static readonly Lazy<TrainTestSets> Sets = new(() => IdxDataset.LoadFashionMnist());

    public static ImageDataset Train(int count) => Sets.Value.Train.Subset(Enumerable.Range(0, count).ToArray());

    public static ImageDataset Validation(int count) => Sets.Value.Train.Subset(Enumerable.Range(50_000, count).ToArray());

    public static ChannelNormalization Normalization(ImageDataset train) => NormalizationStatistics.Compute(train).ToNormalization();
}

/// <summary>A fresh folder under the temp directory, removed afterwards.</summary>
public sealed class ScratchFolder : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "scan-tests-" + Guid.NewGuid().ToString("N"));

    public ScratchFolder() => Directory.CreateDirectory(Root);

    public string PathOf(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
