using System.IO.Compression;

namespace ScanService.Datasets;

/// <summary>Opening dataset files that may be gzip-compressed, and reading them with errors that name the file.</summary>
public static class DataFile
{
    // Large reads grow in steps, so a corrupt header that declares gigabytes fails at the real end of the data
    // instead of allocating what it declares.
    private const int InitialChunk = 16 << 20;

    /// <summary>Opens a file, transparently decompressing it when it starts with the gzip magic bytes (1F 8B), whatever its name.</summary>
    public static Stream Open(string path, out bool compressed)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException e)
        {
            throw new DatasetException(path, "file not found.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DatasetException(path, "file not found.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, $"cannot be opened: {e.Message}", e);
        }

        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        compressed = read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        return compressed ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes or throws with <paramref name="describeShortfall"/>(bytes found).</summary>
    public static byte[] ReadExactly(Stream stream, long count, string path, Func<long, string> describeShortfall)
    {
        if (count > Array.MaxLength)
        {
            throw new DatasetException(path, $"declares {count:N0} bytes of data, more than one array can hold.");
        }
        bool lengthKnown = stream is FileStream;
        if (stream is FileStream plain && plain.Length - plain.Position < count)
        {
            throw new DatasetException(path, describeShortfall(plain.Length - plain.Position));
        }

        var buffer = new byte[lengthKnown ? count : Math.Min(count, InitialChunk)];
        long filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(count, buffer.Length * 2L));
            }
            int n = Read(stream, buffer.AsSpan((int)filled), path);
            if (n == 0)
            {
                throw new DatasetException(path, describeShortfall(filled));
            }
            filled += n;
        }
        return buffer;
    }

    /// <summary>Reads the whole (decompressed) content.</summary>
    public static byte[] ReadToEnd(string path)
    {
        using var stream = Open(path, out _);
        using var content = new MemoryStream();
        try
        {
            stream.CopyTo(content);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException(path, $"is not a valid gzip stream: {e.Message}", e);
        }
        return content.ToArray();
    }

    /// <summary>Throws when the stream holds anything after the data its header declared.</summary>
    public static void ExpectEnd(Stream stream, string path, long declaredBytes)
    {
        Span<byte> probe = stackalloc byte[1];
        if (Read(stream, probe, path) != 0)
        {
            throw new DatasetException(path, $"has bytes after the {declaredBytes:N0} its header declares; the file is corrupt or not what it is named.");
        }
    }

    public static int Read(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            return stream.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException(path, $"is not a valid gzip stream: {e.Message}", e);
        }
    }

    /// <summary>Reads a UTF-8 text file of one name per line; blank lines are skipped.</summary>
    public static string[] ReadNames(string path)
    {
        try
        {
            return [.. File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0)];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DatasetException(path, "file not found.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, $"cannot be read: {e.Message}", e);
        }
    }
}
