using System.Diagnostics;
using ScanService.Benchmarks.Targets;

namespace ScanService.Benchmarks;

/// <summary>What one stretch of load measured: images served, wall time, per-request latencies and every answer.</summary>
public sealed class Measurement
{
    public int Images { get; set; }
    public int Requests { get; set; }
    public int Errors { get; set; }
    public string? FirstError { get; set; }
    public double Seconds { get; set; }
    public List<double> LatenciesMs { get; } = [];
    /// <summary>By test image index; null where the image was not served.</summary>
    public Dictionary<int, Answer> Answers { get; } = [];

    public void Add(Measurement other)
    {
        Images += other.Images;
        Requests += other.Requests;
        Errors += other.Errors;
        FirstError ??= other.FirstError;
        Seconds += other.Seconds;
        LatenciesMs.AddRange(other.LatenciesMs);
        foreach (var (index, answer) in other.Answers) Answers[index] = answer;
    }
}

/// <summary>
/// Closed-loop clients: each sends a request, waits for its answer, sends the next, so the offered load follows the
/// service's speed. Images are handed out in test-set order from a shared cursor; a stretch ends when the images
/// run out or its time is up (requests already sent still finish and count).
/// </summary>
public static class LoadGenerator
{
    public static async Task<Measurement> RunAsync(IClassifyTarget target, int clients, int batchSize, ImageCursor cursor, TimeSpan budget)
    {
        var perClient = Enumerable.Range(0, clients).Select(_ => new Measurement()).ToArray();
        var started = Stopwatch.GetTimestamp();
        var deadline = budget <= TimeSpan.Zero ? long.MaxValue : started + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(perClient.Select(m => Task.Run(() => ClientAsync(target, batchSize, cursor, deadline, m))));
        var total = new Measurement();
        foreach (var m in perClient) total.Add(m);
        total.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return total;
    }

    private static async Task ClientAsync(IClassifyTarget target, int batchSize, ImageCursor cursor, long deadline, Measurement measurement)
    {
        while (Stopwatch.GetTimestamp() < deadline && cursor.TryTake(batchSize, out var first, out var count))
        {
            var sent = Stopwatch.GetTimestamp();
            try
            {
                var answers = await target.ClassifyAsync(first, count, CancellationToken.None);
                measurement.LatenciesMs.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                for (var i = 0; i < answers.Length; i++) measurement.Answers[first + i] = answers[i];
                measurement.Images += count;
            }
            catch (Exception e) when (e is HttpRequestException or Grpc.Core.RpcException or Core.Batching.QueueFullException or TaskCanceledException)
            {
                measurement.Errors++;
                measurement.FirstError ??= e.Message;
            }
            measurement.Requests++;
        }
    }
}

/// <summary>Hands out test images <c>start</c>..<c>end</c>-1 in order, each once, to any number of clients; requests never straddle the end.</summary>
public sealed class ImageCursor(int start, int end)
{
    private int _next = start;

    public ImageCursor(int count)
        : this(0, count)
    {
    }

    public bool TryTake(int batchSize, out int first, out int taken)
    {
        first = Interlocked.Add(ref _next, batchSize) - batchSize;
        taken = Math.Min(batchSize, end - first);
        return taken > 0;
    }
}
