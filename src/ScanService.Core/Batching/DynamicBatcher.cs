using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ScanService.Core.Diagnostics;
using ScanService.Core.Inference;
using ScanService.Core.Inference.Features;

namespace ScanService.Core.Batching;

/// <summary>
/// Dynamic batching in front of the early-exit engine, shared by every front end. Concurrent requests queue for
/// stage 1 and wait at most <see cref="BatchingOptions.MaxDelay"/> for a batch of up to
/// <see cref="BatchingOptions.MaxBatchSize"/>; after each exit the survivors of every batch at that depth queue for
/// the next stage and are regrouped into fuller batches there (see <see cref="StageQueues"/> for which stage runs
/// next). Stages do not depend on a request's plan, so samples of any operating point, depth cap, full depth or
/// ensemble share a stage's batch; each exit head runs only on the rows that need it. A request's answer is
/// released the moment its last sample leaves. Past <see cref="BatchingOptions.QueueCapacity"/> samples in the
/// batcher, requests are refused at once with <see cref="QueueFullException"/>. A cancelled request's samples are
/// dropped before their next stage.
/// </summary>
/// <remarks>
/// One worker thread runs every batch: ONNX Runtime already spreads each run over the cores through its global
/// pool, so a second worker would only make two runs fight for them. Survivors keep their rows where the engine
/// put them (pooled host arrays, or device memory under CUDA, see <see cref="FeatureMemory"/>); regrouping gathers
/// rows into a new block there, and a batch whose rows already lie in order in one block (a whole batch going on,
/// one caller's samples) runs on that block without a copy. The batcher does not own the engine: dispose the
/// batcher first.
/// </remarks>
public sealed class DynamicBatcher : IDisposable, IAsyncDisposable
{
    private readonly EarlyExitEngine _engine;
    private readonly int _maxBatchSize;
    private readonly int _capacity;
    private readonly IServingObserver[] _serving;
    private readonly IInferenceObserver[] _inference;
    private readonly Thread _worker;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _gate; the worker waits on it for work or for the delay to pass.
    private readonly object _gate = new();
    private readonly StageQueues _queues;
    private int _pending;
    private bool _sweepNeeded;
    private bool _closing;

    private long _dropped;

    public DynamicBatcher(EarlyExitEngine engine, BatchingOptions options, IEnumerable<IServingObserver>? servingObservers = null, IEnumerable<IInferenceObserver>? inferenceObservers = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _engine = engine;
        _maxBatchSize = options.MaxBatchSize;
        _capacity = options.QueueCapacity;
        _serving = servingObservers?.ToArray() ?? [];
        _inference = inferenceObservers?.ToArray() ?? [];
        _queues = new StageQueues(engine.Manifest.Stages.Count, _maxBatchSize, (long)(options.MaxDelay.TotalSeconds * Stopwatch.Frequency),
            (long)(options.DeepStageDelay.TotalSeconds * Stopwatch.Frequency));
        _worker = new Thread(Work) { IsBackground = true, Name = "scan-batcher" };
        _worker.Start();
    }

    public EarlyExitEngine Engine => _engine;

    /// <summary>Samples admitted and not yet answered or dropped.</summary>
    public int Pending
    {
        get
        {
            lock (_gate) return _pending;
        }
    }

    /// <summary>Samples whose request was cancelled (or failed) before they ran to an exit: work not done.</summary>
    public long DroppedSamples => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Classifies <paramref name="count"/> preprocessed samples laid out N×C×H×W in <paramref name="pixels"/> under
    /// <paramref name="plan"/> (resolved by this batcher's engine); answers in input order, the same as
    /// <see cref="EarlyExitEngine.Run"/> gives. The pixels are read until the task completes.
    /// </summary>
    /// <returns>
    /// A task that fails with <see cref="QueueFullException"/> at once when the batcher is full, with
    /// <see cref="ObjectDisposedException"/> once it is closing, and is cancelled with <paramref name="cancellationToken"/>.
    /// </returns>
    public Task<Prediction[]> ClassifyAsync(ReadOnlyMemory<float> pixels, int count, ExitPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var size = _engine.SampleSize;
        if ((long)count * size > pixels.Length)
            throw new ArgumentException($"{count} samples need {(long)count * size} values, the buffer has {pixels.Length}", nameof(pixels));
        if (plan.LastExit < 1 || plan.LastExit > _engine.ExitCount || plan.Thresholds.Count < plan.LastExit)
            throw new ArgumentException("the plan was not resolved against this batcher's engine", nameof(plan));
        if (count == 0) return Task.FromResult(Array.Empty<Prediction>());
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<Prediction[]>(cancellationToken);

        if (!MemoryMarshal.TryGetArray(pixels, out var segment)) segment = new ArraySegment<float>(pixels[..(count * size)].ToArray());
        var request = new BatchRequest(count, plan, Stopwatch.GetTimestamp(), ScanActivities.CurrentContext());
        // Every sample reads its row of the caller's pixels once; nothing is given back when the last one has.
        var pixelRows = FeatureBlock.OverArray(segment.Array!, segment.Offset, count, _engine.Stages.InputRowShape);
        pixelRows.Retain(count);
        // Registered before the samples are queued, so that the worker never sees a request it could not unregister.
        if (cancellationToken.CanBeCanceled)
            request.Registration = cancellationToken.Register(static (state, token) =>
            {
                var (batcher, cancelled) = ((DynamicBatcher, BatchRequest))state!;
                batcher.OnCancelled(cancelled, token);
            }, (this, request));

        bool closing, full;
        int depth;
        lock (_gate)
        {
            closing = _closing;
            // A request larger than the whole capacity is still taken onto an empty batcher, or it could never run.
            full = !closing && _pending > 0 && _pending + count > _capacity;
            if (!closing && !full)
            {
                _pending += count;
                var ensemble = plan.Mode == ExitMode.Ensemble;
                for (var i = 0; i < count; i++)
                {
                    _queues.Enqueue(0, new QueuedSample(request, i, ensemble ? new float[_engine.ClassCount] : null,
                        new FeatureRow(pixelRows, i), request.ArrivedAt));
                }
                Monitor.Pulse(_gate);
            }
            depth = _pending;
        }
        if (closing || full)
        {
            request.Registration.Dispose();
            if (closing) return Task.FromException<Prediction[]>(new ObjectDisposedException(nameof(DynamicBatcher), "the batcher is closing"));
            foreach (var observer in _serving) observer.Rejected();
            return Task.FromException<Prediction[]>(new QueueFullException(_capacity));
        }
        foreach (var observer in _serving) observer.QueueDepthChanged(depth);
        return request.Completion.Task;
    }

    private void OnCancelled(BatchRequest request, CancellationToken token)
    {
        if (!request.Cancel(token)) return;
        // Wake the worker so that the samples leave the queues (and the capacity) now, not at their next turn.
        lock (_gate)
        {
            _sweepNeeded = true;
            Monitor.Pulse(_gate);
        }
    }

    private enum Turn
    {
        /// <summary>A batch was taken: run it.</summary>
        Run,
        /// <summary>Abandoned samples were removed and nothing is due yet: report, then look again.</summary>
        Swept,
        /// <summary>Closing, and everything taken has been answered.</summary>
        Stop,
    }

    private void Work()
    {
        var batch = new List<QueuedSample>(_maxBatchSize);
        var scratch = new List<QueuedSample>(_maxBatchSize);
        var rows = new List<FeatureRow>(_maxBatchSize);
        try
        {
            while (TakeBatch(batch, scratch, out var stage) is var turn && turn != Turn.Stop)
            {
                if (turn != Turn.Run) continue;
                RunBatch(stage, batch, scratch, rows);
                batch.Clear();
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Waits until a stage is due and takes its batch, or until a sweep has removed abandoned samples.</summary>
    private Turn TakeBatch(List<QueuedSample> batch, List<QueuedSample> swept, out int stage)
    {
        swept.Clear();
        Turn turn;
        int depth;
        lock (_gate)
        {
            while (true)
            {
                if (_sweepNeeded)
                {
                    _sweepNeeded = false;
                    _queues.RemoveAbandoned(swept);
                    _pending -= swept.Count;
                    Interlocked.Add(ref _dropped, swept.Count);
                }
                stage = _queues.Choose(Stopwatch.GetTimestamp(), _closing, out var wakeAt);
                if (stage >= 0)
                {
                    _queues.Take(stage, _maxBatchSize, batch);
                    turn = Turn.Run;
                    break;
                }
                // Closing, Choose takes any queued sample; none left, and the worker holds no batch either.
                if (_closing)
                {
                    turn = Turn.Stop;
                    break;
                }
                // Report the freed places now, not after the wait; and never sweep twice into one list.
                if (swept.Count > 0)
                {
                    turn = Turn.Swept;
                    break;
                }
                Monitor.Wait(_gate, WaitTime(wakeAt));
            }
            depth = _pending;
        }
        if (swept.Count > 0)
        {
            ReleaseInputs(swept);
            foreach (var observer in _serving) observer.QueueDepthChanged(depth);
        }
        return turn;
    }

    private static TimeSpan WaitTime(long wakeAt)
    {
        if (wakeAt == long.MaxValue) return Timeout.InfiniteTimeSpan;
        var ticks = wakeAt - Stopwatch.GetTimestamp();
        // Monitor.Wait counts whole milliseconds: round up so that the delay has passed on waking.
        return TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency)));
    }

    private void Drop(List<QueuedSample> samples)
    {
        ReleaseInputs(samples);
        Interlocked.Add(ref _dropped, samples.Count);
    }

    /// <summary>Runs one stage on a batch, its exit head on the rows that need it, answers those that leave and queues the rest.</summary>
    private void RunBatch(int stage, List<QueuedSample> batch, List<QueuedSample> scratch, List<FeatureRow> rows)
    {
        // Cancelled while queued: their work is not done. One pass decides each sample once, so that a cancellation
        // arriving meanwhile cannot take a sample out of the batch without its being dropped (and released).
        scratch.Clear();
        var kept = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].Request.Abandoned) scratch.Add(batch[i]);
            else batch[kept++] = batch[i];
        }
        batch.RemoveRange(kept, batch.Count - kept);
        if (scratch.Count > 0) Drop(scratch);
        var finished = scratch.Count;
        var survivors = new List<QueuedSample>(batch.Count);
        var answers = new List<(QueuedSample Sample, Prediction Answer)>(batch.Count);
        var heads = OrderHeadsFirst(stage, batch, scratch);
        var count = batch.Count;
        float[]? logits = null;
        FeatureBlock? output = null;
        var sourcesReleased = false;
        var failed = false;
        try
        {
            if (count > 0)
            {
                var formed = Stopwatch.GetTimestamp();
                foreach (var observer in _serving) observer.BatchFormed(stage + 1, count);
                if (stage == 0) ReportFirstWaits(batch, formed);

                rows.Clear();
                foreach (var sample in batch) rows.Add(sample.Input);
                var started = Stopwatch.GetTimestamp();
                output = _engine.Stages.RunStage(stage, rows);
                var stageEnded = Stopwatch.GetTimestamp();
                var elapsed = Stopwatch.GetElapsedTime(started, stageEnded);
                Trace(batch, ScanActivities.Stage(stage + 1), started, stageEnded, count);
                foreach (var observer in _inference) observer.StageCompleted(stage + 1, count, elapsed);
                ReleaseInputs(batch);
                sourcesReleased = true;

                var classes = _engine.ClassCount;
                if (heads > 0)
                {
                    logits = ArrayPool<float>.Shared.Rent(heads * classes);
                    started = Stopwatch.GetTimestamp();
                    _engine.Stages.RunExitHead(stage, output, heads, logits);
                    var headEnded = Stopwatch.GetTimestamp();
                    elapsed = Stopwatch.GetElapsedTime(started, headEnded);
                    // Heads run on the batch's first rows: the samples that need one come first.
                    Trace(batch, ScanActivities.ExitHead(stage + 1), started, headEnded, heads);
                    foreach (var observer in _inference) observer.ExitHeadCompleted(stage + 1, heads, elapsed);
                }

                var now = Stopwatch.GetTimestamp();
                for (var i = 0; i < count; i++)
                {
                    var sample = batch[i];
                    if (sample.Request.Abandoned)
                    {
                        Interlocked.Increment(ref _dropped);
                        continue;
                    }
                    if (i < heads && ExitRule.Decide(stage, logits.AsSpan(i * classes, classes), sample.Request.Plan, sample.EnsembleSum) is { } answer)
                    {
                        answers.Add((sample, answer));
                        continue;
                    }
                    survivors.Add(sample with { Input = new FeatureRow(output, i), EnqueuedAt = now });
                    output.Retain();
                }
            }
        }
        catch (Exception e)
        {
            // The batch cannot be trusted: fail every request in it; their samples elsewhere are swept.
            foreach (var sample in batch) sample.Request.Fail(e);
            failed = true;
            survivors.Clear();
            answers.Clear();
            // The survivors that held it are dropped with the batch.
            output?.Dispose();
            if (!sourcesReleased) ReleaseInputs(batch);
        }
        finally
        {
            if (logits is not null) ArrayPool<float>.Shared.Return(logits);
            if (output is { Unread: true }) output.Dispose();
        }

        finished += count - survivors.Count;
        int depth;
        lock (_gate)
        {
            foreach (var sample in survivors) _queues.Enqueue(stage + 1, sample);
            _pending -= finished;
            // A failed request may still have samples queued elsewhere.
            _sweepNeeded |= failed;
            depth = _pending;
        }
        // Released only now, so that a caller answered sees its place in the queue already free.
        foreach (var (sample, answer) in answers) sample.Request.Answer(sample.Index, answer);
        if (finished > 0)
        {
            foreach (var observer in _serving) observer.QueueDepthChanged(depth);
        }
    }

    /// <summary>
    /// Puts the rows that need this exit's head first, keeping order otherwise, so that the head runs on a prefix of
    /// the stage's output without a copy. Returns how many need it.
    /// </summary>
    private static int OrderHeadsFirst(int stage, List<QueuedSample> batch, List<QueuedSample> scratch)
    {
        var heads = 0;
        foreach (var sample in batch)
        {
            if (ExitRule.NeedsHead(sample.Request.Plan, stage)) heads++;
        }
        if (heads == 0 || heads == batch.Count) return heads;
        scratch.Clear();
        foreach (var sample in batch)
        {
            if (ExitRule.NeedsHead(sample.Request.Plan, stage)) scratch.Add(sample);
        }
        foreach (var sample in batch)
        {
            if (!ExitRule.NeedsHead(sample.Request.Plan, stage)) scratch.Add(sample);
        }
        batch.Clear();
        batch.AddRange(scratch);
        return heads;
    }

    /// <summary>Each sample has read (or will never read) its input row: its block loses a reader.</summary>
    private static void ReleaseInputs(List<QueuedSample> samples)
    {
        foreach (var sample in samples) sample.Input.Block.Release();
    }

    private void ReportFirstWaits(List<QueuedSample> batch, long formed)
    {
        foreach (var sample in batch)
        {
            if (sample.Request.Started) continue;
            sample.Request.Started = true;
            var waited = Stopwatch.GetElapsedTime(sample.Request.ArrivedAt, formed);
            foreach (var observer in _serving) observer.QueueWaited(waited);
            ScanActivities.Record(ScanActivities.QueueWait, sample.Request.Trace, sample.Request.ArrivedAt, formed, batch.Count);
        }
    }

    /// <summary>One span per request of the batch (its samples share it) for a stage or head that ran on the batch's first <paramref name="rows"/>.</summary>
    private static void Trace(List<QueuedSample> batch, string name, long started, long ended, int rows)
    {
        if (!ScanActivities.Source.HasListeners()) return;
        BatchRequest? previous = null;
        for (var i = 0; i < rows; i++)
        {
            var request = batch[i].Request;
            // Samples of one request are usually next to each other; a request seen again is simply skipped.
            if (ReferenceEquals(request, previous)) continue;
            previous = request;
            if (batch.FindIndex(0, i, s => ReferenceEquals(s.Request, request)) >= 0) continue;
            ScanActivities.Record(name, request.Trace, started, ended, rows);
        }
    }

    /// <summary>Stops taking requests, answers every one already taken, and stops the worker.</summary>
    public void Dispose()
    {
        Close();
        if (Thread.CurrentThread != _worker) _worker.Join();
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        Close();
        await _stopped.Task.ConfigureAwait(false);
    }

    private void Close()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.Pulse(_gate);
        }
    }
}
