using System.Buffers.Binary;
using SkiaSharp;

namespace ScanService.TestSupport;

/// <summary>Formats Skia can decode but not encode, written by hand: 24-bit BMP and GIF89a.</summary>
public static class BitmapFiles
{
    /// <summary>A 24-bit BMP: bottom-up rows of B, G, R padded to 4 bytes.</summary>
    public static byte[] Bmp24(int width, int height, Func<int, int, SKColor> colourAt)
    {
        var rowBytes = (width * 3 + 3) / 4 * 4;
        var imageSize = rowBytes * height;
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
        for (var y = 0; y < height; y++)
        {
            var row = 54 + (height - 1 - y) * rowBytes;
            for (var x = 0; x < width; x++)
            {
                var c = colourAt(x, y);
                bmp[row + 3 * x] = c.Blue;
                bmp[row + 3 * x + 1] = c.Green;
                bmp[row + 3 * x + 2] = c.Red;
            }
        }
        return bmp;
    }

    /// <summary>Grey pixels as a 24-bit BMP (equal R, G and B).</summary>
    public static byte[] GreyBmp(byte[] pixels, int width, int height) =>
        Bmp24(width, height, (x, y) => { var v = pixels[y * width + x]; return new SKColor(v, v, v); });

    /// <summary>
    /// A GIF89a with a global palette of 2 to 256 entries (a power of two) and one image per frame, each
    /// <paramref name="width"/>×<paramref name="height"/> palette indices, row-major.
    /// </summary>
    public static byte[] Gif(int width, int height, IReadOnlyList<SKColor> palette, params byte[][] frames)
    {
        var bits = (int)Math.Log2(palette.Count);
        if (palette.Count < 2 || palette.Count > 256 || 1 << bits != palette.Count)
            throw new ArgumentException("the palette needs 2, 4, ... or 256 entries", nameof(palette));
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        Write16(gif, width);
        Write16(gif, height);
        gif.WriteByte((byte)(0x80 | (bits - 1) << 4 | (bits - 1))); // global table of 2^bits entries, bits-bit colour
        gif.WriteByte(0); // background colour index
        gif.WriteByte(0); // pixel aspect ratio
        foreach (var c in palette) gif.Write([c.Red, c.Green, c.Blue]);
        var minimumCodeSize = Math.Max(2, bits);
        foreach (var indices in frames)
        {
            gif.WriteByte(0x2C); // image descriptor
            Write16(gif, 0);
            Write16(gif, 0);
            Write16(gif, width);
            Write16(gif, height);
            gif.WriteByte(0); // no local colour table, not interlaced
            gif.WriteByte((byte)minimumCodeSize);
            var lzw = Lzw(indices, minimumCodeSize);
            for (var i = 0; i < lzw.Length; i += 255)
            {
                var n = Math.Min(255, lzw.Length - i);
                gif.WriteByte((byte)n);
                gif.Write(lzw, i, n);
            }
            gif.WriteByte(0); // block terminator
        }
        gif.WriteByte(0x3B); // trailer
        return gif.ToArray();
    }

    /// <summary>Grey pixels as a GIF with a 256-entry grey palette.</summary>
    public static byte[] GreyGif(byte[] pixels, int width, int height) =>
        Gif(width, height, Enumerable.Range(0, 256).Select(i => new SKColor((byte)i, (byte)i, (byte)i)).ToArray(), pixels);

    /// <summary>Offset of the first image descriptor (0x2C) of a GIF written here.</summary>
    public static int FirstImageDescriptor(byte[] gif)
    {
        var packed = gif[10];
        var table = (packed & 0x80) != 0 ? 3 << ((packed & 7) + 1) : 0;
        var at = 13 + table;
        return gif[at] == 0x2C ? at : throw new InvalidDataException("the GIF does not start its data with an image descriptor");
    }

    /// <summary>
    /// LZW that sends a clear code often enough that the code table never outgrows its first code width
    /// (minimum code size + 1 bits): no dictionary matching, valid if uncompressed image data. After a clear the
    /// decoder adds one entry per code but the first, from clear + 2 up, and the width grows when the next code
    /// reaches 2 × clear: up to clear - 2 literals per clear would do; a few fewer leave room for decoders that
    /// grow it one code early.
    /// </summary>
    private static byte[] Lzw(byte[] indices, int minimumCodeSize)
    {
        var clear = 1 << minimumCodeSize;
        var end = clear + 1;
        var width = minimumCodeSize + 1;
        var perClear = Math.Max(2, clear - 6);
        var codes = new List<int> { clear };
        for (var i = 0; i < indices.Length; i++)
        {
            if (i > 0 && i % perClear == 0) codes.Add(clear);
            codes.Add(indices[i]);
        }
        codes.Add(end);
        var bytes = new List<byte>();
        int buffer = 0, filled = 0;
        foreach (var code in codes)
        {
            buffer |= code << filled;
            filled += width;
            while (filled >= 8)
            {
                bytes.Add((byte)buffer);
                buffer >>= 8;
                filled -= 8;
            }
        }
        if (filled > 0) bytes.Add((byte)buffer);
        return [.. bytes];
    }

    private static void Write16(Stream stream, int value)
    {
        stream.WriteByte((byte)value);
        stream.WriteByte((byte)(value >> 8));
    }
}
