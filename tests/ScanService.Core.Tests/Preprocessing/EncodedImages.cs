using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace ScanService.Core.Tests.Preprocessing;

/// <summary>Test images with known pixels: PNG, JPEG and WebP through Skia's encoders; PNG chunks, BMP and GIF by hand.</summary>
internal static class EncodedImages
{
    public static SKBitmap Bitmap(int width, int height, Func<int, int, SKColor> colorAt)
    {
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, colorAt(x, y));
            }
        }
        return bitmap;
    }

    public static byte[] Png(int width, int height, Func<int, int, SKColor> colorAt)
    {
        using var bitmap = Bitmap(width, height, colorAt);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] GreyPng(int width, int height, Func<int, int, byte> valueAt)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        var pixels = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                pixels[y * bitmap.RowBytes + x] = valueAt(x, y);
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] Jpeg(int width, int height, Func<int, int, SKColor> colorAt, int quality = 95)
    {
        using var bitmap = Bitmap(width, height, colorAt);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    public static byte[] LosslessWebp(int width, int height, Func<int, int, SKColor> colorAt)
    {
        using var bitmap = Bitmap(width, height, colorAt);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            ?? throw new InvalidOperationException("Skia could not encode WebP.");
        return data.ToArray();
    }

    /// <summary>A JPEG carrying an EXIF APP1 segment whose only tag is Orientation (0x0112).</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00, // SHORT, count 1
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    // ---- PNG by hand: chunks with their CRC, so headers can declare anything ----

    public static byte[] PngFromChunks(params (string Type, byte[] Data)[] chunks)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Span<byte> length = stackalloc byte[4];
        Span<byte> crc = stackalloc byte[4];
        foreach (var (type, data) in chunks)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
            stream.Write(length);
            byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
            stream.Write(typeAndData);
            BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
            stream.Write(crc);
        }
        return stream.ToArray();
    }

    public static byte[] Ihdr(uint width, uint height, byte bitDepth, byte colorType)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth;
        data[9] = colorType;
        // compression 0, filter 0, interlace 0
        return data;
    }

    /// <summary>Scanlines, each prefixed with filter type 0 (None), zlib-compressed as IDAT wants them.</summary>
    public static byte[] Idat(IReadOnlyList<byte[]> rows)
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

    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
        }
        return ~crc;
    }

    // ---- BMP by hand: 24-bit, bottom-up rows padded to 4 bytes ----

    public static byte[] Bmp24(int width, int height, Func<int, int, SKColor> colorAt)
    {
        int rowBytes = (width * 3 + 3) / 4 * 4;
        int imageSize = rowBytes * height;
        var bmp = new byte[54 + imageSize];
        var span = bmp.AsSpan();
        span[0] = (byte)'B';
        span[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(span[2..], bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], 54);
        BinaryPrimitives.WriteInt32LittleEndian(span[14..], 40);
        BinaryPrimitives.WriteInt32LittleEndian(span[18..], width);
        BinaryPrimitives.WriteInt32LittleEndian(span[22..], height);
        BinaryPrimitives.WriteInt16LittleEndian(span[26..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[28..], 24);
        BinaryPrimitives.WriteInt32LittleEndian(span[34..], imageSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[38..], 2835);
        BinaryPrimitives.WriteInt32LittleEndian(span[42..], 2835);
        for (int y = 0; y < height; y++)
        {
            int rowStart = 54 + (height - 1 - y) * rowBytes;
            for (int x = 0; x < width; x++)
            {
                var c = colorAt(x, y);
                bmp[rowStart + 3 * x] = c.Blue;
                bmp[rowStart + 3 * x + 1] = c.Green;
                bmp[rowStart + 3 * x + 2] = c.Red;
            }
        }
        return bmp;
    }

    // ---- GIF89a by hand: a 4-colour global palette and one or more frames of palette indices ----

    public static byte[] Gif(int width, int height, SKColor[] palette, params byte[][] frames)
    {
        if (palette.Length != 4) throw new ArgumentException("The writer uses a 4-entry palette.", nameof(palette));
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteUInt16(gif, width);
        WriteUInt16(gif, height);
        gif.WriteByte(0x91); // global colour table of 2^(1+1) entries, colour resolution 2 bits
        gif.WriteByte(0); // background index
        gif.WriteByte(0); // aspect ratio
        foreach (var c in palette)
        {
            gif.Write([c.Red, c.Green, c.Blue]);
        }
        foreach (var indices in frames)
        {
            gif.WriteByte(0x2C);
            WriteUInt16(gif, 0);
            WriteUInt16(gif, 0);
            WriteUInt16(gif, width);
            WriteUInt16(gif, height);
            gif.WriteByte(0); // no local palette, not interlaced
            gif.WriteByte(2); // LZW minimum code size
            var lzw = Lzw(indices);
            for (int i = 0; i < lzw.Length; i += 255)
            {
                int n = Math.Min(255, lzw.Length - i);
                gif.WriteByte((byte)n);
                gif.Write(lzw, i, n);
            }
            gif.WriteByte(0);
        }
        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    /// <summary>
    /// LZW with a clear code after every two literals: the table never grows past code 7, so every code
    /// stays 3 bits wide and no compression logic is needed.
    /// </summary>
    private static byte[] Lzw(byte[] indices)
    {
        const int Clear = 4, End = 5;
        var codes = new List<int> { Clear };
        for (int i = 0; i < indices.Length; i++)
        {
            if (i > 0 && i % 2 == 0) codes.Add(Clear);
            codes.Add(indices[i]);
        }
        codes.Add(End);

        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (int code in codes)
        {
            buffer |= code << bits;
            bits += 3;
            while (bits >= 8)
            {
                bytes.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }
        if (bits > 0) bytes.Add((byte)buffer);
        return [.. bytes];
    }

    private static void WriteUInt16(Stream stream, int value)
    {
        stream.WriteByte((byte)value);
        stream.WriteByte((byte)(value >> 8));
    }
}
