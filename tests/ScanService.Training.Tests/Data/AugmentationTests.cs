using ScanService.Training.Data;

namespace ScanService.Training.Tests.Data;

public class AugmentationTests
{
    private const int Channels = 2, Height = 5, Width = 6;

    private static readonly byte[] Sample =
        [.. Enumerable.Range(0, Channels * Height * Width).Select(i => (byte)(i + 1))]; // no zeros, so padding shows

    private static byte At(ReadOnlySpan<byte> image, int c, int y, int x) => image[(c * Height + y) * Width + x];

    private static byte[] Apply(Augmentation augmentation, Random random)
    {
        var result = new byte[Sample.Length];
        augmentation.Apply(Sample, result, Channels, Height, Width, random);
        return result;
    }

    [Fact]
    public void No_padding_and_no_flip_is_the_identity()
    {
        var random = new Random(1);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(Sample, Apply(new Augmentation(cropPadding: 0, horizontalFlip: false), random));
        }
    }

    [Fact]
    public void Flip_alone_gives_the_image_or_its_mirror_and_both_occur()
    {
        var mirror = new byte[Sample.Length];
        for (int c = 0; c < Channels; c++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    mirror[(c * Height + y) * Width + x] = At(Sample, c, y, Width - 1 - x);
        var random = new Random(2);

        var results = Enumerable.Range(0, 40).Select(_ => Apply(new Augmentation(0, horizontalFlip: true), random)).ToList();

        Assert.All(results, r => Assert.True(r.SequenceEqual(Sample) || r.SequenceEqual(mirror)));
        Assert.Contains(results, r => r.SequenceEqual(Sample));
        Assert.Contains(results, r => r.SequenceEqual(mirror));
    }

    [Fact]
    public void Crop_is_a_shift_of_at_most_the_padding_with_zeros_shifted_in()
    {
        const int Padding = 2;
        var random = new Random(3);
        var shifts = new HashSet<(int, int)>();

        for (int trial = 0; trial < 200; trial++)
        {
            var result = Apply(new Augmentation(Padding, horizontalFlip: false), random);

            var shift = FindShift(result, Padding);
            Assert.True(shift.HasValue, "result is not a zero-filled shift of the sample");
            shifts.Add(shift.Value);
            Assert.Equal(Sample.Length, result.Length);
        }
        Assert.Equal(25, shifts.Count); // every shift in [-2, 2]² occurs
    }

    [Fact]
    public void Same_seed_gives_the_same_augmentations()
    {
        var augmentation = new Augmentation(4, horizontalFlip: true);
        var first = new Random(9);
        var second = new Random(9);

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(Apply(augmentation, first), Apply(augmentation, second));
        }
    }

    [Fact]
    public void Negative_padding_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Augmentation(-1));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void An_erasing_probability_outside_0_to_1_is_refused(double probability)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Augmentation(erasingProbability: probability));
    }

    [Fact]
    public void Erasing_changes_one_rectangle_of_2_to_40_percent_and_nothing_outside_it()
    {
        const int Size = 20;
        var image = Enumerable.Repeat((byte)0, 2 * Size * Size).ToArray();
        var augmentation = new Augmentation(erasingProbability: 1);
        var random = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            var result = new byte[image.Length];
            augmentation.Apply(image, result, 2, Size, Size, random);

            // Values are random bytes, so a few erased pixels may be 0; the changed ones lie in one box of bounded size.
            var changed = Enumerable.Range(0, result.Length).Where(i => result[i] != 0).Select(i => (C: i / (Size * Size), Y: i / Size % Size, X: i % Size)).ToList();
            Assert.NotEmpty(changed);
            int top = changed.Min(p => p.Y), bottom = changed.Max(p => p.Y), left = changed.Min(p => p.X), right = changed.Max(p => p.X);
            var box = (bottom - top + 1) * (right - left + 1);
            Assert.InRange(box, 1, (int)Math.Ceiling(Augmentation.ErasingMaxArea * Size * Size * 1.15));
            // Every channel is erased in the same rectangle: almost all of its pixels changed in both.
            foreach (var c in new[] { 0, 1 })
                Assert.True(changed.Count(p => p.C == c) >= 0.9 * box, $"channel {c} changed {changed.Count(p => p.C == c)} of a {box}-pixel box");
        }
    }

    [Fact]
    public void Erasing_happens_with_the_given_probability_and_not_at_zero()
    {
        var random = new Random(6);
        var half = new Augmentation(erasingProbability: 0.5);
        var erased = Enumerable.Range(0, 1000).Count(_ => !Apply(half, random).SequenceEqual(Sample));
        Assert.InRange(erased, 430, 570);

        var off = new Augmentation(cropPadding: 1, horizontalFlip: true, erasingProbability: 0);
        var withoutErasing = new Augmentation(cropPadding: 1, horizontalFlip: true);
        Assert.Equal(off, withoutErasing);
        Assert.False(new Augmentation(erasingProbability: 0.1).IsIdentity);
    }

    private static (int Dy, int Dx)? FindShift(byte[] result, int padding)
    {
        for (int dy = -padding; dy <= padding; dy++)
        {
            for (int dx = -padding; dx <= padding; dx++)
            {
                bool matches = true;
                for (int c = 0; c < Channels && matches; c++)
                    for (int y = 0; y < Height && matches; y++)
                        for (int x = 0; x < Width && matches; x++)
                        {
                            int sy = y + dy, sx = x + dx;
                            byte expected = sy >= 0 && sy < Height && sx >= 0 && sx < Width ? At(Sample, c, sy, sx) : (byte)0;
                            matches = At(result, c, y, x) == expected;
                        }
                if (matches) return (dy, dx);
            }
        }
        return null;
    }
}
