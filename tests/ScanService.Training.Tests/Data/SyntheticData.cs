using ScanService.Training.Data;

namespace ScanService.Training.Tests.Data;

internal static class SyntheticData
{
    /// <summary>N samples of C×H×W whose bytes encode sample, channel and position, labelled i mod classes.</summary>
    public static ImageDataset Create(int count, int channels = 1, int height = 4, int width = 4, int classes = 3)
    {
        int size = channels * height * width;
        var pixels = new byte[count * size];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i / size * 31 + i % size);
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        return new ImageDataset(pixels, labels, channels, height, width, [.. Enumerable.Range(0, classes).Select(c => $"c{c}")]);
    }
}
