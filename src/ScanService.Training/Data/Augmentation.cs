namespace ScanService.Training.Data;

/// <summary>
/// Per-sample training augmentation on raw C×H×W bytes: a random crop from the image padded with zeros
/// (a random shift of up to <see cref="CropPadding"/> pixels each way), a random horizontal flip, and random
/// erasing (Zhong et al. 2017): with probability <see cref="ErasingProbability"/> a rectangle of 2–40 % of the image,
/// aspect ratio 0.3–3.3, is filled with random values. All randomness comes from the <see cref="Random"/> passed in,
/// so a seeded run repeats exactly; a step that is off draws nothing, so turning erasing off leaves the other draws
/// as they were.
/// </summary>
public sealed record Augmentation
{
    /// <summary>Smallest and largest erased area, as fractions of the image (the paper's s_l and s_h).</summary>
    public const double ErasingMinArea = 0.02, ErasingMaxArea = 0.4;
    /// <summary>Smallest aspect ratio of the erased rectangle (the paper's r_1); the largest is its inverse.</summary>
    public const double ErasingMinAspect = 0.3;

    public Augmentation(int cropPadding = 0, bool horizontalFlip = false, double erasingProbability = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cropPadding);
        if (!(erasingProbability is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(erasingProbability), erasingProbability, "The erasing probability must lie in [0, 1].");
        CropPadding = cropPadding;
        HorizontalFlip = horizontalFlip;
        ErasingProbability = erasingProbability;
    }

    /// <summary>No change: the sample is copied as it is.</summary>
    public static Augmentation None { get; } = new();

    public int CropPadding { get; }
    public bool HorizontalFlip { get; }
    /// <summary>Chance that a sample gets a random rectangle erased (0: never).</summary>
    public double ErasingProbability { get; }

    public bool IsIdentity => CropPadding == 0 && !HorizontalFlip && ErasingProbability == 0;

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
        if (ErasingProbability > 0 && random.NextDouble() < ErasingProbability)
            Erase(destination, channels, height, width, random);
    }

    /// <summary>
    /// Fills one random rectangle (the same in every channel) with random values. Area and aspect ratio are drawn
    /// as in the paper, and drawn again (at most 100 times) until the rectangle fits the image.
    /// </summary>
    private static void Erase(Span<byte> image, int channels, int height, int width, Random random)
    {
        int plane = height * width;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            double area = plane * (ErasingMinArea + random.NextDouble() * (ErasingMaxArea - ErasingMinArea));
            double aspect = Math.Exp(Math.Log(ErasingMinAspect) + random.NextDouble() * (Math.Log(1 / ErasingMinAspect) - Math.Log(ErasingMinAspect)));
            int h = (int)Math.Round(Math.Sqrt(area * aspect));
            int w = (int)Math.Round(Math.Sqrt(area / aspect));
            if (h < 1 || w < 1 || h > height || w > width) continue;
            int top = random.Next(height - h + 1);
            int left = random.Next(width - w + 1);
            for (int c = 0; c < channels; c++)
                for (int y = top; y < top + h; y++)
                    random.NextBytes(image.Slice(c * plane + y * width + left, w));
            return;
        }
    }
}
