namespace ScanService.Datasets;

/// <summary>Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 28×28 grey, 10 classes, in IDX files.</summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the four IDX files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The test images file as Debian installs it.</summary>
    public const string DefaultTestImagesFile = DefaultDirectory + "/t10k-images-idx3-ubyte.gz";

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The 10,000 test images and their labels.</summary>
    public static IdxSplit ReadTestSplit(string directory = DefaultDirectory) => IdxFile.ReadSplit(directory, IdxFile.TestSplit);
}
