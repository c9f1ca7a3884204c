namespace ScanService.Training.Data;

/// <summary>Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 28×28 grey, 10 classes, in IDX files.</summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the four IDX files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static TrainTestSets Load(string directory = DefaultDirectory) => IdxFile.LoadDirectory(directory, ClassNames);
}

/// <summary>MNIST handwritten digits, in the same IDX files and layout as Fashion-MNIST.</summary>
public static class Mnist
{
    public static readonly IReadOnlyList<string> ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static TrainTestSets Load(string directory) => IdxFile.LoadDirectory(directory, ClassNames);
}
