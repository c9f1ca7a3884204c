namespace ScanService.Training.Data;

/// <summary>
/// Per-sample training augmentation on raw C×H×W bytes: a random crop from the image padded with zeros
/// (a random shift of up to <see cref="CropPadding"/> pixels each way) and a random horizontal flip.
/// All randomness comes from the <see cref="Random"/> passed in, so a seeded run repeats exactly.
/// </summary>
public sealed record Augmentation
{
    public Augmentation(int cropPadding = 0, bool horizontalFlip = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cropPadding);
        CropPadding = cropPadding;
        HorizontalFlip = horizontalFlip;
    }

    /// <summary>No change: the sample is copied as it is.</summary>
    public static Augmentation None { get; } = new();

    public int CropPadding { get; }
    public bool HorizontalFlip { get; }

    public bool IsIdentity => CropPadding == 0 && !HorizontalFlip;

    /// <summary>Writes an augmented copy of <paramref name="sample"/> into <paramref name="destination"/> (same size, not overlapping).</summary>
    public void Apply(ReadOnlySpan<byte> sample, Span<byte> destination, int channels, int height, int width, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int plane = height * width;
        if (sample.Length != channels * plane || destination.Length != sample.Length)
        {
            throw new ArgumentException($"Sample and destination must both hold {channels}x{height}x{width} bytes.");
        }
        if (IsIdentity)
        {
            sample.CopyTo(destination);
            return;
        }

        // Cropping a (H+2p)×(W+2p) zero-padded image at offset (p+dy, p+dx) is shifting by (dy, dx) with zero fill.
        int dy = random.Next(-CropPadding, CropPadding + 1);
        int dx = random.Next(-CropPadding, CropPadding + 1);
        bool flip = HorizontalFlip && random.Next(2) == 1;

        for (int c = 0; c < channels; c++)
        {
            var source = sample.Slice(c * plane, plane);
            var target = destination.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
            {
                var row = target.Slice(y * width, width);
                int sourceY = y + dy;
                if ((uint)sourceY >= (uint)height)
                {
                    row.Clear();
                    continue;
                }
                var sourceRow = source.Slice(sourceY * width, width);
                for (int x = 0; x < width; x++)
                {
                    int sourceX = (flip ? width - 1 - x : x) + dx;
                    row[x] = (uint)sourceX < (uint)width ? sourceRow[sourceX] : (byte)0;
                }
            }
        }
    }
}
