using System.Buffers.Binary;
using System.IO.Compression;

namespace ScanService.TestSupport;

/// <summary>PNG chunks by hand: written with their CRC, parsed, and re-sealed after surgery, so headers can declare anything.</summary>
public static class PngChunks
{
    public static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>One chunk of an encoded PNG: where it starts (its length field), its data's offset and length, and its type.</summary>
    public readonly record struct Chunk(int Offset, int DataOffset, int Length, string Type)
    {
        public int End => DataOffset + Length + 4;
    }

    /// <summary>A PNG of these chunks, in this order, after the signature.</summary>
    public static byte[] Write(params (string Type, byte[] Data)[] chunks)
    {
        using var stream = new MemoryStream();
        stream.Write(Signature);
        Span<byte> word = stackalloc byte[4];
        foreach (var (type, data) in chunks)
        {
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
            stream.Write(word);
            byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
            stream.Write(typeAndData);
            BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
            stream.Write(word);
        }
        return stream.ToArray();
    }

    /// <summary>IHDR data: compression 0, filter 0, no interlacing.</summary>
    public static byte[] Ihdr(uint width, uint height, byte bitDepth, byte colourType)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth;
        data[9] = colourType;
        return data;
    }

    /// <summary>Scanlines with filter type 0 (None), zlib-compressed as IDAT holds them.</summary>
    public static byte[] Idat(IEnumerable<byte[]> rows)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            foreach (var row in rows)
            {
                zlib.WriteByte(0);
                zlib.Write(row);
            }
        }
        return compressed.ToArray();
    }

    /// <summary>The chunks of a well-formed PNG, in order; stops at the first length that runs past the data.</summary>
    public static List<Chunk> Parse(byte[] png)
    {
        var chunks = new List<Chunk>();
        var at = Signature.Length;
        while (at + 12 <= png.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length > png.Length - at - 12) break;
            chunks.Add(new Chunk(at, at + 8, (int)length, System.Text.Encoding.ASCII.GetString(png, at + 4, 4)));
            at += 12 + (int)length;
        }
        return chunks;
    }

    /// <summary>Rewrites a chunk's CRC after its type or data changed.</summary>
    public static void FixCrc(byte[] png, Chunk chunk) =>
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(chunk.DataOffset + chunk.Length), Crc32(png.AsSpan(chunk.Offset + 4, chunk.Length + 4)));

    /// <summary>Rewrites the IHDR (the first chunk) of a real PNG to declare <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static byte[] Declaring(byte[] png, uint width, uint height)
    {
        var copy = (byte[])png.Clone();
        var ihdr = Parse(copy)[0];
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(ihdr.DataOffset), width);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(ihdr.DataOffset + 4), height);
        FixCrc(copy, ihdr);
        return copy;
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309), over type and data.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
