using SkiaSharp;

namespace ScanService.Datasets;

/// <summary>The content of an IDX image file: <see cref="Count"/> grey images of <see cref="Rows"/>×<see cref="Columns"/> bytes, one after another.</summary>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns)
{
    public int PixelsPerImage => Rows * Columns;

    /// <summary>Grey pixels of image <paramref name="index"/>, row-major.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>Image <paramref name="index"/> as an 8-bit grey bitmap; the caller disposes it.</summary>
    public SKBitmap GreyBitmap(int index)
    {
        var pixels = Image(index);
        var bitmap = new SKBitmap(Columns, Rows, SKColorType.Gray8, SKAlphaType.Opaque);
        var target = bitmap.GetPixelSpan();
        for (var y = 0; y < Rows; y++) pixels.Slice(y * Columns, Columns).CopyTo(target.Slice(y * bitmap.RowBytes, Columns));
        return bitmap;
    }

    /// <summary>Image <paramref name="index"/> as the lossless grey PNG a client would send: it decodes to the very same pixels.</summary>
    public byte[] Png(int index)
    {
        using var bitmap = GreyBitmap(index);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The first <paramref name="count"/> images as PNGs.</summary>
    public IReadOnlyList<byte[]> Pngs(int count)
    {
        if (count > Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"the file holds {Count} images; {count} were asked for");
        return [.. Enumerable.Range(0, count).Select(Png)];
    }
}

/// <summary>Images and their labels from a pair of IDX files that agree in count.</summary>
public sealed record IdxSplit(IdxImages Images, byte[] Labels, string ImagesFile, string LabelsFile)
{
    public int Count => Labels.Length;
}
