using ScanService.Datasets;
using ScanService.Training.Data;
using static ScanService.Training.Tests.Data.IdxFileTests;

namespace ScanService.Training.Tests.Data;

public sealed class CifarTests : IDisposable
{
    private static readonly string[] Cifar10Names =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    // Distinct per record and per plane, so a swapped record or channel shows.
    private static byte PixelOf(int record, int offset) => (byte)(record * 7 + offset / 1024 * 50 + offset % 13);

    private void WriteCifar10(int recordsPerBatch = 2)
    {
        for (int b = 1; b <= 5; b++)
        {
            var labels = Enumerable.Range(0, recordsPerBatch).Select(r => new[] { (byte)((b + r) % 10) }).ToArray();
            _folder.Write($"data_batch_{b}.bin", TempFolder.CifarRecords(labels, (r, p) => PixelOf(r + b * 10, p)));
        }
        _folder.Write("test_batch.bin", TempFolder.CifarRecords([[3], [8], [0]], PixelOf));
        File.WriteAllText(_folder.PathOf("batches.meta.txt"), string.Join('\n', Cifar10Names) + "\n\n");
    }

    [Fact]
    public void Cifar10_reads_all_five_training_batches_in_order_and_the_test_batch()
    {
        WriteCifar10();

        var sets = Cifar10.Load(_folder.Root);

        Assert.Equal((10, 3, 32, 32), (sets.Train.Count, sets.Train.Channels, sets.Train.Height, sets.Train.Width));
        Assert.Equal(new[] { 1, 2, 2, 3, 3, 4, 4, 5, 5, 6 }, sets.Train.Labels);
        Assert.Equal(new[] { 3, 8, 0 }, sets.Test.Labels);
        Assert.Equal(Cifar10Names, sets.Train.ClassNames);
    }

    [Fact]
    public void Cifar10_pixels_are_red_green_blue_planes_of_32_by_32()
    {
        WriteCifar10();

        var sets = Cifar10.Load(_folder.Root);

        var expected = Enumerable.Range(0, 3072).Select(p => PixelOf(1, p)).ToArray();
        Assert.Equal(expected, sets.Test.Sample(1).ToArray());
        // Record 1 of data_batch_3 is training sample 2·2 + 1.
        var third = Enumerable.Range(0, 3072).Select(p => PixelOf(31, p)).ToArray();
        Assert.Equal(third, sets.Train.Sample(5).ToArray());
    }

    [Fact]
    public void Cifar100_uses_the_fine_label_of_each_record()
    {
        var names = Enumerable.Range(0, 100).Select(i => $"class{i}").ToArray();
        File.WriteAllLines(_folder.PathOf("fine_label_names.txt"), names);
        _folder.Write("train.bin", TempFolder.CifarRecords([[19, 99], [5, 42]], PixelOf));
        _folder.Write("test.bin", TempFolder.CifarRecords([[0, 7]], PixelOf));

        var sets = Cifar100.Load(_folder.Root);

        Assert.Equal(new[] { 99, 42 }, sets.Train.Labels);
        Assert.Equal(new[] { 7 }, sets.Test.Labels);
        Assert.Equal("class42", sets.Train.ClassNames[42]);
        Assert.Equal(Enumerable.Range(0, 3072).Select(p => PixelOf(1, p)).ToArray(), sets.Train.Sample(1).ToArray());
    }

    [Fact]
    public void File_that_is_not_a_whole_number_of_records_is_reported()
    {
        WriteCifar10();
        var broken = _folder.Write("data_batch_4.bin", TempFolder.CifarRecords([[1], [2]], PixelOf)[..^100]);

        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(_folder.Root));

        AssertNames(broken, error);
        Assert.Contains("3073-byte records", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cifar100_file_of_cifar10_records_is_reported()
    {
        File.WriteAllLines(_folder.PathOf("fine_label_names.txt"), Enumerable.Range(0, 100).Select(i => $"c{i}"));
        var train = _folder.Write("train.bin", TempFolder.CifarRecords([[1], [2], [3]], PixelOf));
        _folder.Write("test.bin", TempFolder.CifarRecords([[0, 7]], PixelOf));

        var error = Assert.Throws<DatasetException>(() => Cifar100.Load(_folder.Root));

        AssertNames(train, error);
    }

    [Fact]
    public void Label_outside_the_classes_is_reported()
    {
        WriteCifar10();
        var test = _folder.Write("test_batch.bin", TempFolder.CifarRecords([[3], [10]], PixelOf));

        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(_folder.Root));

        AssertNames(test, error);
        Assert.Contains("record 1 has label 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_batch_is_reported()
    {
        WriteCifar10();
        File.Delete(_folder.PathOf("data_batch_5.bin"));

        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(_folder.Root));

        AssertNames(_folder.PathOf("data_batch_5.bin"), error);
    }

    [Fact]
    public void Class_names_file_with_the_wrong_count_is_reported()
    {
        WriteCifar10();
        var meta = _folder.PathOf("batches.meta.txt");
        File.WriteAllLines(meta, Cifar10Names[..9]);

        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(_folder.Root));

        AssertNames(meta, error);
        Assert.Contains("9 class names", error.Message, StringComparison.Ordinal);
    }
}
