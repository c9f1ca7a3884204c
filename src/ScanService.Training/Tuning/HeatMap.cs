namespace ScanService.Training.Tuning;

/// <summary>A 2-D map of values in [0, 1], row-major (an image or an attention map).</summary>
public sealed record HeatMap
{
    public HeatMap(int height, int width, float[] values)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != height * width)
            throw new ArgumentException($"Expected {height * width} values for {height}x{width}, got {values.Length}.", nameof(values));
        Height = height;
        Width = width;
        Values = values;
    }

    public int Height { get; }
    public int Width { get; }
    public float[] Values { get; }

    public float this[int y, int x] => Values[(y * Width) + x];

    public static HeatMap FromRows(float[,] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int h = rows.GetLength(0), w = rows.GetLength(1);
        var values = new float[h * w];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
                values[(y * w) + x] = rows[y, x];
        }
        return new HeatMap(h, w, values);
    }
}

/// <summary>One test image and what each attention module made of it (maps averaged over channels).</summary>
/// <param name="Image">Grey image, values in [0, 1].</param>
/// <param name="Maps">One map per attention module, values in [0, 1].</param>
/// <param name="Caption">Optional row caption, e.g. "label: coat, exit 2".</param>
public sealed record AttentionSample(HeatMap Image, IReadOnlyList<HeatMap> Maps, string? Caption = null);
