using ScanService.Datasets;
using ScanService.Training.Data;
using SkiaSharp;

namespace ScanService.Training.Tests.Data;

public sealed class IdxFileTests : IDisposable
{
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static byte PixelOf(int image, int offset) => (byte)(image * 16 + offset);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_read_back_with_their_pixels(bool gzip)
    {
        var images = _folder.Write("images", TempFolder.IdxImages(3, 2, 4, PixelOf), gzip);
        var labels = _folder.Write("labels", TempFolder.IdxLabels(7, 0, 9), gzip);

        var data = IdxDataset.Load(images, labels, Digits);

        Assert.Equal((3, 1, 2, 4), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(new[] { 7, 0, 9 }, data.Labels);
        Assert.Equal(Enumerable.Range(0, 8).Select(o => PixelOf(2, o)).ToArray(), data.Sample(2).ToArray());
    }

    [Fact]
    public void Gzip_is_detected_by_content_not_by_name()
    {
        var gzipNamedPlain = _folder.Write("images.idx", TempFolder.IdxImages(1, 1, 2, PixelOf), gzip: true);
        var plainNamedGzip = _folder.Write("labels.gz", TempFolder.IdxLabels(4));

        var data = IdxDataset.Load(gzipNamedPlain, plainNamedGzip, Digits);

        Assert.Equal(new byte[] { 0, 1 }, data.Pixels);
        Assert.Equal(4, data.Labels[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Directory_of_the_four_standard_files_loads_plain_or_gzipped(bool gzip)
    {
        string suffix = gzip ? ".gz" : "";
        _folder.Write("train-images-idx3-ubyte" + suffix, TempFolder.IdxImages(4, 3, 3, PixelOf), gzip);
        _folder.Write("train-labels-idx1-ubyte" + suffix, TempFolder.IdxLabels(1, 2, 3, 4), gzip);
        _folder.Write("t10k-images-idx3-ubyte" + suffix, TempFolder.IdxImages(2, 3, 3, PixelOf), gzip);
        _folder.Write("t10k-labels-idx1-ubyte" + suffix, TempFolder.IdxLabels(5, 6), gzip);

        var sets = IdxDataset.LoadMnist(_folder.Root);

        Assert.Equal(4, sets.Train.Count);
        Assert.Equal(new[] { 5, 6 }, sets.Test.Labels);
        Assert.Equal("9", sets.Test.ClassNames[9]);
    }

    [Fact]
    public void A_split_of_a_directory_is_its_images_with_their_labels()
    {
        _folder.Write("t10k-images-idx3-ubyte.gz", TempFolder.IdxImages(2, 3, 2, PixelOf), gzip: true);
        var labels = _folder.Write("t10k-labels-idx1-ubyte", TempFolder.IdxLabels(5, 6));

        var split = IdxFile.ReadSplit(_folder.Root, IdxFile.TestSplit);

        Assert.Equal((2, 3, 2), (split.Images.Count, split.Images.Rows, split.Images.Columns));
        Assert.Equal(new byte[] { 5, 6 }, split.Labels);
        Assert.Equal(labels, split.LabelsFile);
        Assert.Equal(Enumerable.Range(0, 6).Select(o => PixelOf(1, o)).ToArray(), split.Images.Image(1).ToArray());
    }

    [Fact]
    public void An_image_as_PNG_decodes_to_its_very_pixels()
    {
        var images = IdxFile.ReadImages(_folder.Write("images", TempFolder.IdxImages(3, 5, 7, PixelOf)));

        var pngs = images.Pngs(2);

        Assert.Equal(2, pngs.Count);
        using var decoded = SKBitmap.Decode(pngs[1]);
        Assert.Equal((7, 5), (decoded.Width, decoded.Height));
        var grey = Enumerable.Range(0, 5 * 7).Select(i => decoded.GetPixel(i % 7, i / 7).Red).ToArray();
        Assert.Equal(images.Image(1).ToArray(), grey);
        Assert.Throws<ArgumentOutOfRangeException>(() => images.Pngs(4));
    }

    [Fact]
    public void Labels_file_given_as_images_is_a_wrong_magic_number()
    {
        var labels = _folder.Write("labels", TempFolder.IdxLabels(1, 2));

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadImages(labels));

        AssertNames(labels, error);
        Assert.Contains("magic number 0x00000801", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_file_given_as_labels_is_a_wrong_magic_number()
    {
        var images = _folder.Write("images", TempFolder.IdxImages(1, 2, 2, PixelOf), gzip: true);

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadLabels(images));

        AssertNames(images, error);
        Assert.Contains("magic number 0x00000803", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_pixels_are_reported(bool gzip)
    {
        var whole = TempFolder.IdxImages(10, 4, 4, PixelOf);
        var images = _folder.Write("images", whole[..^5], gzip);

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadImages(images));

        AssertNames(images, error);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains("155", error.Message, StringComparison.Ordinal); // bytes of pixels actually present
    }

    [Fact]
    public void Truncated_header_is_reported()
    {
        var images = _folder.Write("images", TempFolder.IdxImages(1, 4, 4, PixelOf)[..10]);

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadImages(images));

        AssertNames(images, error);
        Assert.Contains("header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_labels_are_reported()
    {
        var labels = _folder.Write("labels", TempFolder.IdxLabels(1, 2, 3, 4)[..^2], gzip: true);

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadLabels(labels));

        AssertNames(labels, error);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_after_the_declared_data_are_reported()
    {
        var images = _folder.Write("images", [.. TempFolder.IdxImages(2, 2, 2, PixelOf), 0, 0]);

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadImages(images));

        AssertNames(images, error);
    }

    [Fact]
    public void Label_count_not_equal_to_image_count_is_reported_on_the_labels_file()
    {
        var images = _folder.Write("images", TempFolder.IdxImages(3, 2, 2, PixelOf));
        var labels = _folder.Write("labels", TempFolder.IdxLabels(1, 2));

        var error = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels, Digits));

        AssertNames(labels, error);
        Assert.Contains("2 labels", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 images", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Label_outside_the_classes_is_reported()
    {
        var images = _folder.Write("images", TempFolder.IdxImages(2, 2, 2, PixelOf));
        var labels = _folder.Write("labels", TempFolder.IdxLabels(1, 10));

        var error = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels, Digits));

        AssertNames(labels, error);
        Assert.Contains("label 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Damaged_gzip_stream_is_reported()
    {
        var gzip = TempFolder.Gzip(TempFolder.IdxImages(50, 8, 8, (i, o) => (byte)(i * o)));
        new Random(5).NextBytes(gzip.AsSpan(12, gzip.Length - 20));
        var images = _folder.Write("images.gz", gzip);

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadImages(images));

        AssertNames(images, error);
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        var missing = _folder.PathOf("nothing-here");

        var error = Assert.Throws<DatasetException>(() => IdxFile.ReadLabels(missing));

        AssertNames(missing, error);
        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_of_a_standard_directory_is_reported()
    {
        var error = Assert.Throws<DatasetException>(() => IdxDataset.LoadFashionMnist(_folder.Root));

        Assert.Contains("train-images-idx3-ubyte", error.Message, StringComparison.Ordinal);
    }

    internal static void AssertNames(string path, DatasetException error)
    {
        Assert.Equal(path, error.File);
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
    }
}
