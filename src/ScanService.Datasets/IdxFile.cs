using System.Buffers.Binary;

namespace ScanService.Datasets;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST: a big-endian magic number (0x00000803 for unsigned-byte images
/// of 3 dimensions, 0x00000801 for unsigned-byte labels), one big-endian int32 per dimension, then the data.
/// Files may be gzip-compressed; that is detected from their first bytes, not their name.
/// </summary>
public static class IdxFile
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>The file name prefixes of the published training and test splits.</summary>
    public const string TrainSplit = "train";
    public const string TestSplit = "t10k";

    /// <summary>Reads an image file: N×rows×columns bytes, one grey channel.</summary>
    public static IdxImages ReadImages(string path)
    {
        using var stream = DataFile.Open(path, out _);
        var dims = ReadHeader(stream, path, ImagesMagic, "images");
        var (count, rows, columns) = (dims[0], dims[1], dims[2]);
        if (rows == 0 || columns == 0)
        {
            throw new DatasetException(path, $"declares images of {rows}x{columns} pixels.");
        }
        long bytes = (long)count * rows * columns;
        var pixels = DataFile.ReadExactly(stream, bytes, path, found =>
            $"is truncated: its header declares {count:N0} images of {rows}x{columns} ({bytes:N0} bytes) but the file holds {found:N0} bytes of pixels.");
        DataFile.ExpectEnd(stream, path, bytes);
        return new IdxImages(pixels, count, rows, columns);
    }

    /// <summary>Reads a label file: one byte per sample.</summary>
    public static byte[] ReadLabels(string path)
    {
        using var stream = DataFile.Open(path, out _);
        int count = ReadHeader(stream, path, LabelsMagic, "labels")[0];
        var labels = DataFile.ReadExactly(stream, count, path, found =>
            $"is truncated: its header declares {count:N0} labels but the file holds {found:N0}.");
        DataFile.ExpectEnd(stream, path, count);
        return labels;
    }

    /// <summary>Reads a pair of image and label files, checking that they hold as many labels as images.</summary>
    public static IdxSplit Read(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new DatasetException(labelsPath, $"holds {labels.Length:N0} labels but {imagesPath} holds {images.Count:N0} images.");
        }
        return new IdxSplit(images, labels, imagesPath, labelsPath);
    }

    /// <summary>
    /// Reads one split of an MNIST-style directory: <c>{split}-images-idx3-ubyte</c> and <c>{split}-labels-idx1-ubyte</c>,
    /// each plain or with a .gz suffix; the published splits are <see cref="TrainSplit"/> and <see cref="TestSplit"/>.
    /// </summary>
    public static IdxSplit ReadSplit(string directory, string split) =>
        Read(Find(directory, $"{split}-images-idx3-ubyte"), Find(directory, $"{split}-labels-idx1-ubyte"));

    private static string Find(string directory, string name)
    {
        string plain = Path.Combine(directory, name);
        string gzipped = plain + ".gz";
        if (File.Exists(gzipped)) return gzipped;
        if (File.Exists(plain)) return plain;
        throw new DatasetException(gzipped, $"file not found (nor {name} without .gz).");
    }

    private static int[] ReadHeader(Stream stream, string path, int expectedMagic, string what)
    {
        Span<byte> header = stackalloc byte[4];
        ReadHeaderBytes(stream, header, path);
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expectedMagic)
        {
            string hint = magic switch
            {
                ImagesMagic => " (that of an IDX image file)",
                LabelsMagic => " (that of an IDX label file)",
                _ => "",
            };
            throw new DatasetException(path, $"wrong magic number 0x{magic:X8}{hint}; IDX {what} start with 0x{expectedMagic:X8}.");
        }

        var dims = new int[expectedMagic & 0xFF];
        for (int d = 0; d < dims.Length; d++)
        {
            ReadHeaderBytes(stream, header, path);
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(header);
            if (dims[d] < 0)
            {
                throw new DatasetException(path, $"header declares a negative size ({dims[d]}) for dimension {d}.");
            }
        }
        return dims;
    }

    private static void ReadHeaderBytes(Stream stream, Span<byte> into, string path)
    {
        int filled = 0;
        while (filled < into.Length)
        {
            int n = DataFile.Read(stream, into[filled..], path);
            if (n == 0) throw new DatasetException(path, "is truncated inside its IDX header.");
            filled += n;
        }
    }
}
