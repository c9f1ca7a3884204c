using ScanService.Datasets;

namespace ScanService.Training.Data;

/// <summary>
/// The binary CIFAR format: fixed-size records of label byte(s) followed by 32×32 pixels as three 1024-byte
/// planes R, G, B, which is already the channel-major layout of <see cref="ImageDataset"/>.
/// </summary>
internal static class CifarBinary
{
    public const int Side = 32;
    public const int PixelBytes = 3 * Side * Side;

    /// <summary>Reads every record of the given files in order, keeping the label at <paramref name="labelIndex"/> of each record's <paramref name="labelBytes"/>.</summary>
    public static ImageDataset Read(IReadOnlyList<string> paths, int labelBytes, int labelIndex, IReadOnlyList<string> classNames)
    {
        int recordLength = labelBytes + PixelBytes;
        var contents = new List<(string Path, byte[] Data)>(paths.Count);
        long records = 0;
        foreach (var path in paths)
        {
            var data = DataFile.ReadToEnd(path);
            if (data.Length == 0 || data.Length % recordLength != 0)
            {
                throw new DatasetException(path,
                    $"is {data.Length:N0} bytes, not a whole number of {recordLength}-byte records ({labelBytes} label byte(s) + {PixelBytes} pixels).");
            }
            contents.Add((path, data));
            records += data.Length / recordLength;
        }

        var pixels = new byte[records * PixelBytes];
        var labels = new int[records];
        int sample = 0;
        foreach (var (path, data) in contents)
        {
            for (int offset = 0; offset < data.Length; offset += recordLength, sample++)
            {
                int label = data[offset + labelIndex];
                if (label >= classNames.Count)
                {
                    throw new DatasetException(path,
                        $"record {offset / recordLength} has label {label}, outside 0..{classNames.Count - 1}.");
                }
                labels[sample] = label;
                data.AsSpan(offset + labelBytes, PixelBytes).CopyTo(pixels.AsSpan(sample * PixelBytes, PixelBytes));
            }
        }
        return new ImageDataset(pixels, labels, 3, Side, Side, classNames);
    }

    public static string[] ReadClassNames(string path, int expected)
    {
        var names = DataFile.ReadNames(path);
        if (names.Length != expected)
        {
            throw new DatasetException(path, $"lists {names.Length} class names; {expected} were expected.");
        }
        return names;
    }
}

/// <summary>CIFAR-10, binary version: data_batch_1..5.bin, test_batch.bin (1 label byte per record) and batches.meta.txt.</summary>
public static class Cifar10
{
    public const int ClassCount = 10;
    public static readonly IReadOnlyList<string> TrainFiles =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    public const string TestFile = "test_batch.bin";
    public const string ClassNamesFile = "batches.meta.txt";

    /// <param name="directory">The <c>cifar-10-batches-bin</c> folder of the binary archive.</param>
    public static TrainTestSets Load(string directory)
    {
        var names = CifarBinary.ReadClassNames(Path.Combine(directory, ClassNamesFile), ClassCount);
        return new TrainTestSets(
            CifarBinary.Read([.. TrainFiles.Select(f => Path.Combine(directory, f))], 1, 0, names),
            CifarBinary.Read([Path.Combine(directory, TestFile)], 1, 0, names));
    }
}

/// <summary>CIFAR-100, binary version: train.bin, test.bin (coarse and fine label bytes per record; the fine label is used) and fine_label_names.txt.</summary>
public static class Cifar100
{
    public const int ClassCount = 100;
    public const string TrainFile = "train.bin";
    public const string TestFile = "test.bin";
    public const string ClassNamesFile = "fine_label_names.txt";

    /// <param name="directory">The <c>cifar-100-binary</c> folder of the binary archive.</param>
    public static TrainTestSets Load(string directory)
    {
        var names = CifarBinary.ReadClassNames(Path.Combine(directory, ClassNamesFile), ClassCount);
        return new TrainTestSets(
            CifarBinary.Read([Path.Combine(directory, TrainFile)], 2, 1, names),
            CifarBinary.Read([Path.Combine(directory, TestFile)], 2, 1, names));
    }
}
