using System.Buffers.Binary;

namespace ScanService.Api.Tests.Reliability;

/// <summary>One fuzz input: the bytes, and how they were made (the seed image and the mutations), to reproduce a failure.</summary>
public sealed record FuzzInput(int Number, byte[] Data, string Recipe);

/// <summary>
/// Seeded mutations of real images in every accepted format: bit flips, byte overwrites, insertions, deletions,
/// truncation, splices, duplicated slices and chunks, and edits of header fields (width, height, bit depth, chunk and
/// segment lengths) that a decoder trusts. The same seed gives the same inputs in the same order.
/// </summary>
public sealed class ImageMutator(int seed)
{
    private readonly Random _random = new(seed);
    private int _made;

    /// <summary>Values that sit on the edges decoders get wrong: zero, one, off-by-one around 28, powers of two, the type's maximum.</summary>
    private static readonly uint[] InterestingSizes = [0, 1, 2, 27, 28, 29, 255, 256, 4096, 16384, 65535, 65536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF];

    /// <summary>The seed images: test images 0-3 in every format and variant, and a 1×1 PNG.</summary>
    public static IReadOnlyList<(string Name, byte[] Data)> Seeds { get; } = MakeSeeds();

    private static List<(string, byte[])> MakeSeeds()
    {
        var seeds = new List<(string, byte[])> { ("1x1 png", CorpusImages.OnePixelPng()) };
        for (var i = 0; i < 4; i++)
        {
            seeds.Add(($"grey png {i}", CorpusImages.GreyPng(i)));
            seeds.Add(($"rgba png {i}", CorpusImages.RgbaPng(i)));
            seeds.Add(($"16-bit png {i}", CorpusImages.Grey16Png(i)));
            seeds.Add(($"grey jpeg {i}", CorpusImages.Jpeg(i)));
            seeds.Add(($"colour jpeg {i}", CorpusImages.ColourJpeg(i)));
            seeds.Add(($"gif {i}", CorpusImages.Gif(i)));
            seeds.Add(($"lossless webp {i}", CorpusImages.LosslessWebp(i)));
            seeds.Add(($"lossy webp {i}", CorpusImages.LossyWebp(i)));
            seeds.Add(($"bmp {i}", CorpusImages.Bmp(i)));
        }
        return seeds;
    }

    public FuzzInput Next()
    {
        var (name, original) = Seeds[_random.Next(Seeds.Count)];
        var data = (byte[])original.Clone();
        var recipe = new List<string> { name };
        var mutations = 1 + _random.Next(3);
        for (var m = 0; m < mutations && data.Length > 0; m++)
        {
            var (mutated, what) = Mutate(data);
            data = mutated;
            recipe.Add(what);
        }
        return new FuzzInput(++_made, data, string.Join(" | ", recipe));
    }

    private (byte[] Data, string What) Mutate(byte[] data) => _random.Next(10) switch
    {
        0 => FlipBits(data),
        1 => OverwriteBytes(data),
        2 => InsertBytes(data),
        3 => DeleteBytes(data),
        4 => Truncate(data),
        5 => DuplicateSlice(data),
        6 => Splice(data),
        7 => DuplicateChunk(data),
        _ => EditHeaderField(data),
    };

    private (byte[], string) FlipBits(byte[] data)
    {
        var flips = 1 + _random.Next(8);
        for (var i = 0; i < flips; i++) data[_random.Next(data.Length)] ^= (byte)(1 << _random.Next(8));
        return (data, $"flip {flips} bits");
    }

    private (byte[], string) OverwriteBytes(byte[] data)
    {
        ReadOnlySpan<byte> edges = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
        var count = 1 + _random.Next(8);
        for (var i = 0; i < count; i++)
            data[_random.Next(data.Length)] = _random.Next(2) == 0 ? edges[_random.Next(edges.Length)] : (byte)_random.Next(256);
        return (data, $"overwrite {count} bytes");
    }

    private (byte[], string) InsertBytes(byte[] data)
    {
        var at = _random.Next(data.Length + 1);
        var inserted = new byte[1 + _random.Next(16)];
        _random.NextBytes(inserted);
        return ([.. data.AsSpan(0, at), .. inserted, .. data.AsSpan(at)], $"insert {inserted.Length} bytes at {at}");
    }

    private (byte[], string) DeleteBytes(byte[] data)
    {
        var at = _random.Next(data.Length);
        var count = Math.Min(1 + _random.Next(64), data.Length - at);
        return ([.. data.AsSpan(0, at), .. data.AsSpan(at + count)], $"delete {count} bytes at {at}");
    }

    private (byte[], string) Truncate(byte[] data)
    {
        var length = _random.Next(data.Length);
        return (data[..length], $"truncate to {length}");
    }

    private (byte[], string) DuplicateSlice(byte[] data)
    {
        var from = _random.Next(data.Length);
        var count = Math.Min(1 + _random.Next(200), data.Length - from);
        var at = _random.Next(data.Length + 1);
        return ([.. data.AsSpan(0, at), .. data.AsSpan(from, count), .. data.AsSpan(at)], $"copy {count} bytes from {from} to {at}");
    }

    /// <summary>The head of this image and the tail of another, often of another format.</summary>
    private (byte[], string) Splice(byte[] data)
    {
        var (name, other) = Seeds[_random.Next(Seeds.Count)];
        var head = _random.Next(data.Length + 1);
        var tail = _random.Next(other.Length + 1);
        return ([.. data.AsSpan(0, head), .. other.AsSpan(tail)], $"splice {head} bytes with the tail of {name} from {tail}");
    }

    /// <summary>A whole structural unit twice: a PNG chunk or a JPEG segment, inserted again at a unit boundary.</summary>
    private (byte[], string) DuplicateChunk(byte[] data)
    {
        if (IsPng(data) && PngChunks.Parse(data) is { Count: > 1 } chunks)
        {
            var chunk = chunks[_random.Next(chunks.Count)];
            var at = chunks[_random.Next(chunks.Count)].Offset;
            return ([.. data.AsSpan(0, at), .. data.AsSpan(chunk.Offset, chunk.End - chunk.Offset), .. data.AsSpan(at)], $"duplicate PNG chunk {chunk.Type} at {at}");
        }
        if (IsJpeg(data) && JpegSegments.Before(data) is { Count: > 1 } segments)
        {
            var (offset, marker, length) = segments[_random.Next(segments.Count)];
            var count = Math.Min(2 + length, data.Length - offset);
            var at = segments[_random.Next(segments.Count)].Offset;
            return ([.. data.AsSpan(0, at), .. data.AsSpan(offset, count), .. data.AsSpan(at)], $"duplicate JPEG segment FF{marker:X2} at {at}");
        }
        return DuplicateSlice(data);
    }

    /// <summary>A field of the format's header that decoders trust, set to an edge value (with the PNG CRC fixed half the time).</summary>
    private (byte[], string) EditHeaderField(byte[] data)
    {
        var value = _random.Next(3) == 0 ? (uint)_random.Next() : InterestingSizes[_random.Next(InterestingSizes.Length)];
        if (IsPng(data) && PngChunks.Parse(data) is { Count: > 0 } chunks)
        {
            var fixCrc = _random.Next(2) == 0;
            string what;
            var chunk = chunks[0];
            switch (_random.Next(5))
            {
                case 0 when chunk is { Type: "IHDR", Length: 13 }:
                    BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(chunk.DataOffset), value);
                    what = $"PNG width {value}";
                    break;
                case 1 when chunk is { Type: "IHDR", Length: 13 }:
                    BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(chunk.DataOffset + 4), value);
                    what = $"PNG height {value}";
                    break;
                case 2 when chunk is { Type: "IHDR", Length: 13 }:
                    var (width, height) = LargeSize();
                    BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(chunk.DataOffset), width);
                    BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(chunk.DataOffset + 4), height);
                    what = $"PNG size {width}x{height}";
                    break;
                case 3 when chunk is { Type: "IHDR", Length: 13 }:
                    var field = 8 + _random.Next(5); // bit depth, colour type, compression, filter, interlace
                    data[chunk.DataOffset + field] = (byte)_random.Next(20);
                    what = $"PNG IHDR byte {field} = {data[chunk.DataOffset + field]}";
                    break;
                default:
                    chunk = chunks[_random.Next(chunks.Count)];
                    BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(chunk.Offset), value);
                    return (data, $"PNG {chunk.Type} length {value}");
            }
            if (fixCrc) PngChunks.FixCrc(data, chunk);
            return (data, what + (fixCrc ? " (CRC fixed)" : ""));
        }
        if (IsJpeg(data) && JpegSegments.Before(data) is { Count: > 0 } segments)
        {
            var sof = segments.FirstOrDefault(s => s.Marker is 0xC0 or 0xC1 or 0xC2);
            if (sof.Offset > 0 && sof.Offset + 9 <= data.Length && _random.Next(3) == 0)
            {
                var (width, height) = LargeSize();
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(sof.Offset + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(sof.Offset + 7), (ushort)width);
                return (data, $"JPEG SOF size {(ushort)width}x{(ushort)height}");
            }
            if (sof.Offset > 0 && sof.Offset + 9 <= data.Length && _random.Next(2) == 0)
            {
                var at = sof.Offset + (_random.Next(2) == 0 ? 5 : 7);
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), (ushort)value);
                return (data, $"JPEG SOF {(at == sof.Offset + 5 ? "height" : "width")} {(ushort)value}");
            }
            var segment = segments[_random.Next(segments.Count)];
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(segment.Offset + 2), (ushort)value);
            return (data, $"JPEG FF{segment.Marker:X2} length {(ushort)value}");
        }
        if (data.Length >= 13 && data.AsSpan(0, 4).SequenceEqual("GIF8"u8))
        {
            if (_random.Next(3) == 0)
            {
                var (width, height) = LargeSize();
                BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), (ushort)height);
                return (data, $"GIF screen size {(ushort)width}x{(ushort)height}");
            }
            var at = 6 + 2 * _random.Next(2);
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(at), (ushort)value);
            return (data, $"GIF screen {(at == 6 ? "width" : "height")} {(ushort)value}");
        }
        if (data.Length >= 30 && data.AsSpan(0, 4).SequenceEqual("RIFF"u8))
        {
            var at = _random.Next(3) switch { 0 => 4, 1 => 16, _ => 21 }; // RIFF size, first chunk size, VP8L/VP8X dimension bits
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), value);
            return (data, $"WebP field at {at} = {value}");
        }
        if (data.Length >= 54 && data[0] == 'B' && data[1] == 'M')
        {
            if (_random.Next(3) == 0)
            {
                var (width, height) = LargeSize();
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(18), width);
                BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(22), height);
                return (data, $"BMP size {width}x{height}");
            }
            var at = _random.Next(4) switch { 0 => 18, 1 => 22, 2 => 10, _ => 28 }; // width, height, pixel data offset, bits per pixel
            if (at == 28) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(at), (ushort)value);
            else BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), value);
            return (data, $"BMP field at {at} = {value}");
        }
        return OverwriteBytes(data);
    }

    /// <summary>
    /// Both sides large, as a decompression bomb declares them: mostly past the pixel limit, now and then just under it
    /// (the decoder then allocates the whole image and fills in what the data lacks, which costs up to a second).
    /// </summary>
    private (uint Width, uint Height) LargeSize() => _random.Next(16) switch
    {
        0 => (6000, 6000),
        < 7 => ((uint)_random.Next(7000, 65536), (uint)_random.Next(7000, 65536)),
        < 12 => (InterestingSizes[_random.Next(InterestingSizes.Length)], InterestingSizes[_random.Next(InterestingSizes.Length)]),
        _ => (65535, 65535),
    };

    private static bool IsPng(byte[] data) => data.AsSpan().StartsWith(PngChunks.Signature);

    private static bool IsJpeg(byte[] data) => data.Length > 4 && data[0] == 0xFF && data[1] == 0xD8;
}
