using System.ComponentModel.DataAnnotations;

namespace ScanService.Core.Batching;

/// <summary>How the <see cref="DynamicBatcher"/> trades latency for fuller batches, and how much work it accepts.</summary>
public sealed class BatchingOptions
{
    /// <summary>Off: every request runs through the engine on its own, as before batching existed.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Most samples one stage runs at once.</summary>
    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>
    /// Longest a sample waits in a stage's queue for others to share its batch. 0 runs whatever is waiting as soon
    /// as the engine is free: batches still form under load, from the requests that arrive while a batch runs.
    /// On CPU that is the best setting measured (docs/BENCHMARKS.md): a fuller batch saves little per image there,
    /// and every millisecond of waiting is a millisecond the cores idle. On a GPU, where a batch of 32 costs little
    /// more than a batch of 1, 1 to 2 ms pays.
    /// </summary>
    [Range(0, 1000)]
    public double MaxDelayMilliseconds { get; set; }

    /// <summary>
    /// Longest a survivor waits in the queue of stage 2 or deeper for others to share its batch while stage 1 is
    /// saturated, with a full batch queued (at least <see cref="MaxDelayMilliseconds"/>). Past exit 1 only a few
    /// samples of each stage-1 batch go on, so without it the deeper stages and heads run on batches of 1 to 3, at up to
    /// twice their per-sample time with a full batch (`scan-bench profile`); with it they gather over several stage-1
    /// batches, for a little more latency on the images that go deep. Below saturation it changes nothing: a survivor
    /// held back then would only make stage 1's next batch smaller, and a deeper stage never waits while the worker
    /// would otherwise idle. 0: no wait.
    /// </summary>
    [Range(0, 1000)]
    public double DeepStageDelayMilliseconds { get; set; }

    /// <summary>Samples admitted and not yet answered, over all stages; past it new requests are refused.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 1024;

    public TimeSpan MaxDelay => TimeSpan.FromMilliseconds(MaxDelayMilliseconds);

    /// <summary>What a survivor of stage 2 or deeper may wait: the larger of the two delays.</summary>
    public TimeSpan DeepStageDelay => TimeSpan.FromMilliseconds(Math.Max(MaxDelayMilliseconds, DeepStageDelayMilliseconds));

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1, nameof(QueueCapacity));
        if (!(MaxDelayMilliseconds >= 0 && MaxDelayMilliseconds <= 1000))
            throw new ArgumentOutOfRangeException(nameof(MaxDelayMilliseconds), MaxDelayMilliseconds, "must be between 0 and 1000 ms");
        if (!(DeepStageDelayMilliseconds >= 0 && DeepStageDelayMilliseconds <= 1000))
            throw new ArgumentOutOfRangeException(nameof(DeepStageDelayMilliseconds), DeepStageDelayMilliseconds, "must be between 0 and 1000 ms");
    }
}
