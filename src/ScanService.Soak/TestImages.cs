using System.Buffers.Binary;
using System.IO.Compression;

namespace ScanService.Soak;

/// <summary>Fashion-MNIST test images read from their IDX file and encoded as grey PNGs, as a client would upload them.</summary>
public static class TestImages
{
    private const int ImagesMagic = 0x803;

    public static IReadOnlyList<byte[]> LoadPngs(string file, int count)
    {
        using var raw = File.OpenRead(file);
        using Stream stream = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        Span<byte> header = stackalloc byte[16];
        stream.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32BigEndian(header) != ImagesMagic) throw new InvalidDataException($"{file} is not an IDX file of images");
        var available = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        var rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        var columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count > available) throw new ArgumentException($"{file} holds {available} images; {count} were asked for");
        var pixels = new byte[rows * columns];
        var pngs = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            stream.ReadExactly(pixels);
            pngs[i] = GreyPng.Encode(pixels, columns, rows);
        }
        return pngs;
    }
}

/// <summary>An 8-bit grey PNG: signature, IHDR, one zlib IDAT of unfiltered rows, IEND. Enough for the service's decoder.</summary>
public static class GreyPng
{
    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (grey), compression, filter and interlace 0
        Chunk(png, "IHDR"u8, ihdr);
        using (var data = new MemoryStream())
        {
            using (var zlib = new ZLibStream(data, CompressionLevel.Optimal, leaveOpen: true))
            {
                for (var y = 0; y < height; y++)
                {
                    zlib.WriteByte(0); // filter type None
                    zlib.Write(pixels.Slice(y * width, width));
                }
            }
            Chunk(png, "IDAT"u8, data.ToArray());
        }
        Chunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in type) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        BinaryPrimitives.WriteUInt32BigEndian(word, ~crc);
        png.Write(word);
    }
}
