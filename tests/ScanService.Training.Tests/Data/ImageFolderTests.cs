using ScanService.Core.Bundle;
using ScanService.Core.Preprocessing;
using ScanService.Datasets;
using ScanService.Training.Data;
using SkiaSharp;
using static ScanService.Training.Tests.Data.IdxFileTests;

namespace ScanService.Training.Tests.Data;

public sealed class ImageFolderTests : IDisposable
{
    private static readonly DecodeTarget GreyFourByFour = new(ColorMode.Grayscale, 4, 4);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A flat grey 4×4 image, PNG or (for a .webp name) lossless WebP, so its pixels come back exactly.</summary>
    private string WriteImage(string relative, byte grey)
    {
        using var bitmap = new SKBitmap(4, 4, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(grey, grey, grey));
        using var pixmap = bitmap.PeekPixels();
        using var data = relative.EndsWith(".webp", StringComparison.Ordinal)
            ? pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            : pixmap.Encode(SKPngEncoderOptions.Default);
        return _folder.Write(relative, data?.ToArray() ?? throw new InvalidOperationException("Skia could not encode the image."));
    }

    [Fact]
    public void Classes_are_the_sub_folders_in_ordinal_order_and_images_are_decoded()
    {
        WriteImage("train/dog/b.png", 20);
        WriteImage("train/dog/a.png", 10);
        WriteImage("train/cat/x.PNG", 30);
        WriteImage("train/Zebra/z.webp", 40);

        var data = ImageFolder.Load(_folder.PathOf("train"), GreyFourByFour);

        Assert.Equal(new[] { "Zebra", "cat", "dog" }, data.ClassNames);
        Assert.Equal(new[] { 0, 1, 2, 2 }, data.Labels);
        Assert.Equal(new byte[] { 40, 30, 10, 20 }, Enumerable.Range(0, 4).Select(i => data.Sample(i)[0]).ToArray());
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(16, data.Sample(i).Length));
    }

    [Fact]
    public void Images_are_brought_to_the_target_size_and_colour_mode()
    {
        using (var bitmap = new SKBitmap(10, 6, SKColorType.Rgba8888, SKAlphaType.Opaque))
        {
            bitmap.Erase(new SKColor(200, 100, 0));
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            _folder.Write("train/only/wide.png", png.ToArray());
        }

        var data = ImageFolder.Load(_folder.PathOf("train"), new DecodeTarget(ColorMode.Rgb, 8, 8));

        Assert.Equal((3, 8, 8), (data.Channels, data.Height, data.Width));
        Assert.Equal(200, data.Sample(0)[0]);
        Assert.Equal(100, data.Sample(0)[64]);
    }

    [Fact]
    public void Files_that_are_not_images_are_ignored()
    {
        WriteImage("train/cat/a.png", 1);
        _folder.Write("train/cat/notes.txt", "not an image"u8.ToArray());
        _folder.Write("train/cat/.hidden.png", [1, 2, 3]);
        _folder.Write("train/README.md", "root files are not classes"u8.ToArray());

        var data = ImageFolder.Load(_folder.PathOf("train"), GreyFourByFour);

        Assert.Equal(1, data.Count);
    }

    [Fact]
    public void Test_folder_is_labelled_like_the_training_folder_even_with_classes_missing()
    {
        WriteImage("train/ant/1.png", 1);
        WriteImage("train/bee/1.png", 2);
        WriteImage("train/cow/1.png", 3);
        WriteImage("test/cow/1.png", 4);

        var sets = ImageFolder.Load(_folder.PathOf("train"), _folder.PathOf("test"), GreyFourByFour);

        Assert.Equal(sets.Train.ClassNames, sets.Test.ClassNames);
        Assert.Equal(new[] { 2 }, sets.Test.Labels);
    }

    [Fact]
    public void Test_class_unknown_to_training_is_reported()
    {
        WriteImage("train/ant/1.png", 1);
        WriteImage("test/bee/1.png", 2);

        var error = Assert.Throws<DatasetException>(() =>
            ImageFolder.Load(_folder.PathOf("train"), _folder.PathOf("test"), GreyFourByFour));

        AssertNames(_folder.PathOf("test/bee"), error);
    }

    [Fact]
    public void Unreadable_image_is_reported_with_its_file_and_the_decoder_reason()
    {
        WriteImage("train/cat/a.png", 1);
        var broken = _folder.Write("train/cat/b.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);
        WriteImage("train/cat/c.png", 1);

        var error = Assert.Throws<DatasetException>(() => ImageFolder.Load(_folder.PathOf("train"), GreyFourByFour));

        AssertNames(broken, error);
        Assert.Contains("JPEG", error.Message, StringComparison.Ordinal);
        Assert.IsType<ImageDecodeException>(error.InnerException);
    }

    [Fact]
    public void Training_class_without_images_is_reported()
    {
        WriteImage("train/cat/a.png", 1);
        Directory.CreateDirectory(_folder.PathOf("train/dog"));

        var error = Assert.Throws<DatasetException>(() => ImageFolder.Load(_folder.PathOf("train"), GreyFourByFour));

        AssertNames(_folder.PathOf("train/dog"), error);
    }

    [Fact]
    public void Missing_or_empty_root_is_reported()
    {
        Directory.CreateDirectory(_folder.PathOf("empty"));

        AssertNames(_folder.PathOf("absent"),
            Assert.Throws<DatasetException>(() => ImageFolder.Load(_folder.PathOf("absent"), GreyFourByFour)));
        AssertNames(_folder.PathOf("empty"),
            Assert.Throws<DatasetException>(() => ImageFolder.Load(_folder.PathOf("empty"), GreyFourByFour)));
    }
}
