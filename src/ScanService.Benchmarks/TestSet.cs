using System.Buffers.Binary;
using System.IO.Compression;
using ScanService.Core.Bundle;
using ScanService.Core.Preprocessing;
using SkiaSharp;

namespace ScanService.Benchmarks;

/// <summary>
/// The Fashion-MNIST test split from its IDX files, as each client needs it: normalised tensors for the engine,
/// lossless PNGs for the service (which decode to the very same tensors), and the labels.
/// </summary>
public sealed class TestSet
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    private const int ImagesMagic = 0x803, LabelsMagic = 0x801;

    private TestSet(byte[] pixels, int[] labels, int height, int width)
    {
        Pixels = pixels;
        Labels = labels;
        Height = height;
        Width = width;
    }

    public byte[] Pixels { get; }
    public int[] Labels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Count => Labels.Length;

    /// <summary>Reads the first <paramref name="limit"/> images of t10k-images-idx3-ubyte(.gz) and their labels.</summary>
    public static TestSet Load(string folder, int limit)
    {
        var images = ReadIdx(Find(folder, "t10k-images-idx3-ubyte"), ImagesMagic);
        var labels = ReadIdx(Find(folder, "t10k-labels-idx1-ubyte"), LabelsMagic);
        var (count, height, width) = (images.Dims[0], images.Dims[1], images.Dims[2]);
        if (labels.Dims[0] != count) throw new InvalidDataException($"{count} test images but {labels.Dims[0]} labels in {folder}");
        var n = Math.Min(limit, count);
        return new TestSet(images.Data[..(n * height * width)], labels.Data[..n].Select(b => (int)b).ToArray(), height, width);
    }

    /// <summary>Every image normalised as the manifest says, N×1×H×W.</summary>
    public float[] Normalised(InputSpec input)
    {
        if (input.Channels != 1 || input.Height != Height || input.Width != Width)
            throw new InvalidOperationException($"the bundle takes {input.Channels}x{input.Height}x{input.Width}; the test set is 1x{Height}x{Width}");
        var result = new float[Pixels.Length];
        ChannelNormalization.For(input).Apply(Pixels, result);
        return result;
    }

    /// <summary>Every image as a grey PNG: what an HTTP or gRPC client sends.</summary>
    public byte[][] Pngs()
    {
        var size = Height * Width;
        return Enumerable.Range(0, Count).Select(i =>
        {
            using var bitmap = new SKBitmap(Width, Height, SKColorType.Gray8, SKAlphaType.Opaque);
            var target = bitmap.GetPixelSpan();
            for (var y = 0; y < Height; y++)
                Pixels.AsSpan(i * size + y * Width, Width).CopyTo(target.Slice(y * bitmap.RowBytes, Width));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            return data.ToArray();
        }).ToArray();
    }

    private static string Find(string folder, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name })
        {
            var path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{name}(.gz) not found in {folder} (install Debian's dataset-fashion-mnist or pass --data)");
    }

    private static (int[] Dims, byte[] Data) ReadIdx(string path, int magic)
    {
        using var file = File.OpenRead(path);
        Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        stream.Dispose();
        var bytes = memory.ToArray();
        var found = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (found != magic) throw new InvalidDataException($"{path}: magic 0x{found:x}, expected 0x{magic:x}");
        var dims = Enumerable.Range(0, magic & 0xFF).Select(d => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d))).ToArray();
        var header = 4 + 4 * dims.Length;
        var expected = dims.Aggregate(1L, (a, d) => a * d);
        if (bytes.Length - header != expected) throw new InvalidDataException($"{path}: {bytes.Length - header} bytes of data, the header declares {expected}");
        return (dims, bytes[header..]);
    }
}
