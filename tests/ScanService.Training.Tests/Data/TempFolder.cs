using System.Buffers.Binary;
using System.IO.Compression;

namespace ScanService.Training.Tests.Data;

/// <summary>A fresh directory per test, deleted afterwards, with writers for the dataset formats under test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "scan-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public string Write(string relative, byte[] content, bool gzip = false)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, gzip ? Gzip(content) : content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test over it is not.
        }
    }

    public static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(content);
        }
        return output.ToArray();
    }

    public static byte[] IdxImages(int count, int rows, int columns, Func<int, int, byte> pixel)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        for (int i = 0; i < count * rows * columns; i++)
        {
            bytes[16 + i] = pixel(i / (rows * columns), i % (rows * columns));
        }
        return bytes;
    }

    public static byte[] IdxLabels(params byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>CIFAR binary records: label byte(s), then 3072 pixel bytes given by <paramref name="pixel"/>(record, offset).</summary>
    public static byte[] CifarRecords(byte[][] labelBytes, Func<int, int, byte> pixel)
    {
        int labelLength = labelBytes[0].Length;
        int recordLength = labelLength + 3072;
        var bytes = new byte[labelBytes.Length * recordLength];
        for (int r = 0; r < labelBytes.Length; r++)
        {
            labelBytes[r].CopyTo(bytes, r * recordLength);
            for (int p = 0; p < 3072; p++)
            {
                bytes[r * recordLength + labelLength + p] = pixel(r, p);
            }
        }
        return bytes;
    }
}
