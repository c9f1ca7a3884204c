using System.Buffers;
using ScanService.Core.Inference.Features;

namespace ScanService.Core.Tests.Inference;

/// <summary>A feature block owns its readers: the last release gives its memory back, exactly once.</summary>
public class FeatureBlockTests
{
    /// <summary>Counts what is given back.</summary>
    private sealed class CountingPool : ArrayPool<float>
    {
        public int Returned { get; private set; }
        public override float[] Rent(int minimumLength) => new float[minimumLength];
        public override void Return(float[] array, bool clearArray = false) => Returned++;
    }

    private static readonly long[] RowShape = [2, 3, 3];

    [Fact]
    public void The_last_of_its_readers_gives_the_memory_back_once()
    {
        var pool = new CountingPool();
        var block = FeatureBlock.Rented(pool, 4, 4, RowShape);
        block.Retain(3);

        block.Release();
        block.Release();
        Assert.Equal(0, pool.Returned);
        Assert.False(block.Unread);

        block.Release();
        Assert.Equal(1, pool.Returned);
        Assert.True(block.Unread);
        block.Dispose();
        Assert.Equal(1, pool.Returned);
    }

    [Fact]
    public void Releasing_more_than_was_retained_is_a_bug_that_says_so()
    {
        var block = FeatureBlock.Rented(new CountingPool(), 1, 1, RowShape);
        block.Retain();
        block.Release();

        Assert.Throws<InvalidOperationException>(() => block.Release());
    }

    [Fact]
    public void A_disposed_block_takes_no_new_readers()
    {
        var block = FeatureBlock.Rented(new CountingPool(), 1, 1, RowShape);
        block.Dispose();

        Assert.Throws<ObjectDisposedException>(() => block.Retain());
    }

    [Fact]
    public void Readers_released_from_many_threads_give_the_memory_back_once()
    {
        var pool = new CountingPool();
        var block = FeatureBlock.Rented(pool, 64, 64, RowShape);
        block.Retain(1000);

        Parallel.For(0, 1000, _ => block.Release());

        Assert.Equal(1, pool.Returned);
    }

    [Fact]
    public void A_block_over_the_callers_pixels_gives_nothing_back()
    {
        var pixels = new float[2 * 18];
        var block = FeatureBlock.OverArray(pixels, 0, 2, RowShape);
        block.Retain(2);
        block.Release();
        block.Release();

        Assert.Throws<ObjectDisposedException>(() => block.View(0, 1));
    }
}
