using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ScanService.Benchmarks.Overload;

/// <summary>
/// One request of a run: when it was due and sent, when its answer came, how the service answered (200, 429, anything
/// else; 0 for no HTTP answer at all) and, for a 200, what it said. Times are milliseconds from the run's start.
/// </summary>
public readonly record struct RequestRecord(
    int Image, double ScheduledMs, double SentMs, double CompletedMs, int Status, int ClassIndex, string? OperatingPoint, bool Degraded, bool Correct)
{
    /// <summary>Send to answer: what a caller waits once its request has left.</summary>
    public double LatencyMs => CompletedMs - SentMs;
    /// <summary>How late the client sent it: when this grows, the client, not the service, is the bottleneck.</summary>
    public double LagMs => SentMs - ScheduledMs;
    public bool Answered => Status == (int)HttpStatusCode.OK;
    public bool Refused => Status == (int)HttpStatusCode.TooManyRequests;
    public bool Failed => !Answered && !Refused;
}

/// <summary>
/// Sends test images to POST /v1/classify, one PNG per request as the body (as the main benchmark's HTTP rows do), and
/// records each answer. One HttpClient for the whole run; its connection pool is large enough that requests wait in
/// the service's queue, where overload should show, not in the client.
/// </summary>
public sealed class OverloadClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Png = new("image/png");
    private readonly HttpClient _http;
    private readonly IReadOnlyList<byte[]> _pngs;
    private readonly int[] _labels;
    private int _inFlight;
    private string? _firstError;

    public OverloadClient(Uri service, int maxConnections, IReadOnlyList<byte[]> pngs, int[] labels)
    {
        _pngs = pngs;
        _labels = labels;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        {
            BaseAddress = service,
            // Far beyond any queueing the service allows: a request this slow is an error, not a latency.
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public int Images => _pngs.Count;

    /// <summary>Most requests outstanding at once since the last <see cref="ResetCounters"/>.</summary>
    public int MaxInFlight { get; private set; }

    /// <summary>The first failure (not a refusal) since the last <see cref="ResetCounters"/>, with the service's own words.</summary>
    public string? FirstError => _firstError;

    public void ResetCounters()
    {
        MaxInFlight = 0;
        _firstError = null;
    }

    /// <summary>Sends test image <paramref name="image"/> now; <paramref name="scheduled"/> (a <see cref="Stopwatch"/> timestamp) is when it was due.</summary>
    public async Task<RequestRecord> SendAsync(string path, int image, long origin, long scheduled)
    {
        var sent = Stopwatch.GetTimestamp();
        var inFlight = Interlocked.Increment(ref _inFlight);
        if (inFlight > MaxInFlight) MaxInFlight = inFlight; // a racy maximum is close enough for a report
        int status = 0, classIndex = -1;
        string? point = null;
        var degraded = false;
        try
        {
            using var content = new ByteArrayContent(_pngs[image]);
            content.Headers.ContentType = Png;
            using var response = await _http.PostAsync(path, content);
            // Read every body, refusals too, so that the connection goes back to the pool.
            var body = await response.Content.ReadAsByteArrayAsync();
            status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                classIndex = root.GetProperty("classIndex").GetInt32();
                if (root.TryGetProperty("operatingPoint", out var p) && p.ValueKind == JsonValueKind.String) point = p.GetString();
                // The service says so only once it can degrade; absent means it answered at the point asked for.
                degraded = root.TryGetProperty("degraded", out var d) && d.ValueKind == JsonValueKind.True;
            }
            else if (response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                Interlocked.CompareExchange(ref _firstError, $"{status} from {path}: {Truncate(Encoding.UTF8.GetString(body))}", null);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            status = 0;
            Interlocked.CompareExchange(ref _firstError, $"{e.GetType().Name}: {e.Message}", null);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
        var completed = Stopwatch.GetTimestamp();
        return new RequestRecord(image, Ms(origin, scheduled), Ms(origin, sent), Ms(origin, completed), status, classIndex, point, degraded,
            status == (int)HttpStatusCode.OK && classIndex == _labels[image]);
    }

    /// <summary>
    /// Closed loop: <paramref name="clients"/> callers each send, wait for the answer, send the next, for
    /// <paramref name="seconds"/>; what the service can answer when it sets the pace itself. Images are taken in
    /// test-set order from <paramref name="firstImage"/>, round and round.
    /// </summary>
    public async Task<List<RequestRecord>> ClosedLoopAsync(string path, int clients, double seconds, int firstImage = 0)
    {
        var origin = Stopwatch.GetTimestamp();
        var deadline = origin + (long)(seconds * Stopwatch.Frequency);
        var cursor = firstImage - 1;
        var perClient = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            var records = new List<RequestRecord>();
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var image = (int)((uint)Interlocked.Increment(ref cursor) % (uint)_pngs.Count);
                records.Add(await SendAsync(path, image, origin, Stopwatch.GetTimestamp()));
            }
            return records;
        })));
        return [.. perClient.SelectMany(r => r).OrderBy(r => r.ScheduledMs)];
    }

    /// <summary>
    /// Open loop: Poisson arrivals at <paramref name="rate"/> per second for <paramref name="seconds"/>, each request
    /// sent at its time whether or not earlier ones have been answered, as independent users would send them. The
    /// schedule comes from a seeded <see cref="Random"/>, so a rerun offers the same arrivals. The dispatcher sleeps
    /// between due times instead of spinning: on a machine this small a spinning client would take a core from the
    /// service. Requests fall due in bursts of about a millisecond as a result; each records how late it left.
    /// </summary>
    public async Task<List<RequestRecord>> OpenLoopAsync(string path, double rate, double seconds, int seed)
    {
        var random = new Random(seed);
        var due = new List<long>();
        var ticksPerSecond = (double)Stopwatch.Frequency;
        for (var t = -Math.Log(1 - random.NextDouble()) / rate; t < seconds; t += -Math.Log(1 - random.NextDouble()) / rate)
            due.Add((long)(t * ticksPerSecond));

        var pending = new List<Task<RequestRecord>>(due.Count);
        var origin = Stopwatch.GetTimestamp();
        var next = 0;
        while (next < due.Count)
        {
            var now = Stopwatch.GetTimestamp() - origin;
            while (next < due.Count && due[next] <= now)
            {
                pending.Add(SendAsync(path, next % _pngs.Count, origin, origin + due[next]));
                next++;
            }
            if (next == due.Count) break;
            var wait = (due[next] - (Stopwatch.GetTimestamp() - origin)) / ticksPerSecond;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Math.Floor(wait * 1000))));
        }
        return [.. await Task.WhenAll(pending)];
    }

    private static double Ms(long origin, long timestamp) => (timestamp - origin) * 1000.0 / Stopwatch.Frequency;

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    public void Dispose() => _http.Dispose();
}
