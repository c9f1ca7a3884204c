using System.Diagnostics;
using ScanService.Core.Batching;
using ScanService.Core.Inference;

namespace ScanService.Benchmarks;

/// <summary>
/// The monolithic graph behind the same batching policy as the service's <see cref="DynamicBatcher"/>: one
/// worker, batches of up to <see cref="BatchingOptions.MaxBatchSize"/>, at most <see cref="BatchingOptions.MaxDelay"/>
/// of waiting for company. Without it the baseline under concurrency would be unbatched and the comparison unfair
/// to it. One stage, so no regrouping.
/// </summary>
public sealed class MonolithicBatcher : IDisposable
{
    private readonly EarlyExitEngine _engine;
    private readonly int _maxBatchSize;
    private readonly long _maxDelayTicks;
    private readonly float[] _batch;
    private readonly Thread _worker;
    private readonly object _gate = new();
    private readonly Queue<(Request Request, int Index, long Arrived)> _queue = new();
    private bool _closing;

    private sealed class Request(ReadOnlyMemory<float> pixels, int count)
    {
        public ReadOnlyMemory<float> Pixels => pixels;
        public Prediction[] Results { get; } = new Prediction[count];
        public int Remaining { get; set; } = count;
        public TaskCompletionSource<Prediction[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public MonolithicBatcher(EarlyExitEngine engine, BatchingOptions options)
    {
        _engine = engine;
        _maxBatchSize = options.MaxBatchSize;
        _maxDelayTicks = (long)(options.MaxDelay.TotalSeconds * Stopwatch.Frequency);
        _batch = new float[_maxBatchSize * engine.SampleSize];
        _worker = new Thread(Work) { IsBackground = true, Name = "monolithic-batcher" };
        _worker.Start();
    }

    public Task<Prediction[]> ClassifyAsync(ReadOnlyMemory<float> pixels, int count, CancellationToken cancellationToken = default)
    {
        var request = new Request(pixels, count);
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            for (var i = 0; i < count; i++) _queue.Enqueue((request, i, now));
            Monitor.Pulse(_gate);
        }
        return request.Completion.Task.WaitAsync(cancellationToken);
    }

    private void Work()
    {
        var size = _engine.SampleSize;
        var taken = new List<(Request Request, int Index, long Arrived)>(_maxBatchSize);
        while (true)
        {
            lock (_gate)
            {
                while (true)
                {
                    if (_queue.Count >= _maxBatchSize || (_queue.Count > 0 && (_closing || Stopwatch.GetTimestamp() - _queue.Peek().Arrived >= _maxDelayTicks))) break;
                    if (_closing) return;
                    var wait = _queue.Count == 0
                        ? Timeout.InfiniteTimeSpan
                        : TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling((_queue.Peek().Arrived + _maxDelayTicks - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency)));
                    Monitor.Wait(_gate, wait);
                }
                while (taken.Count < _maxBatchSize && _queue.TryDequeue(out var sample)) taken.Add(sample);
            }
            try
            {
                for (var i = 0; i < taken.Count; i++)
                    taken[i].Request.Pixels.Span.Slice(taken[i].Index * size, size).CopyTo(_batch.AsSpan(i * size, size));
                var predictions = _engine.RunMonolithic(_batch, taken.Count);
                for (var i = 0; i < taken.Count; i++)
                {
                    var (request, index, _) = taken[i];
                    request.Results[index] = predictions[i];
                    if (--request.Remaining == 0) request.Completion.TrySetResult(request.Results);
                }
            }
            catch (Exception e)
            {
                foreach (var (request, _, _) in taken) request.Completion.TrySetException(e);
            }
            taken.Clear();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.Pulse(_gate);
        }
        _worker.Join();
    }
}
