using ScanService.Datasets;

namespace ScanService.Training.Data;

/// <summary>
/// Datasets published as IDX files in MNIST's layout (MNIST, Fashion-MNIST) as <see cref="ImageDataset"/>s: the files
/// are read by <see cref="IdxFile"/>, the one IDX reader of the solution; the labels are checked against the class names here.
/// </summary>
public static class IdxDataset
{
    /// <summary>MNIST's classes: handwritten digits.</summary>
    public static readonly IReadOnlyList<string> Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static TrainTestSets LoadFashionMnist(string directory = FashionMnist.DefaultDirectory) => LoadDirectory(directory, FashionMnist.ClassNames);

    public static TrainTestSets LoadMnist(string directory) => LoadDirectory(directory, Digits);

    /// <summary>
    /// Loads the four standard files of an MNIST-style directory: train-images-idx3-ubyte, train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or with a .gz suffix.
    /// </summary>
    public static TrainTestSets LoadDirectory(string directory, IReadOnlyList<string> classNames) => new(
        ToDataset(IdxFile.ReadSplit(directory, IdxFile.TrainSplit), classNames),
        ToDataset(IdxFile.ReadSplit(directory, IdxFile.TestSplit), classNames));

    /// <summary>Reads a pair of image and label files into one dataset, checking that they agree.</summary>
    public static ImageDataset Load(string imagesPath, string labelsPath, IReadOnlyList<string> classNames) =>
        ToDataset(IdxFile.Read(imagesPath, labelsPath), classNames);

    private static ImageDataset ToDataset(IdxSplit split, IReadOnlyList<string> classNames)
    {
        var labels = new int[split.Count];
        for (int i = 0; i < labels.Length; i++)
        {
            if (split.Labels[i] >= classNames.Count)
            {
                throw new DatasetException(split.LabelsFile, $"label {split.Labels[i]} of sample {i} is outside 0..{classNames.Count - 1}.");
            }
            labels[i] = split.Labels[i];
        }
        var images = split.Images;
        return new ImageDataset(images.Pixels, labels, 1, images.Rows, images.Columns, classNames);
    }
}
