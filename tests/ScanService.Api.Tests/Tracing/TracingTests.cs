using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry.Trace;
using ScanService.Api.Tests.Rest;
using ScanService.Core.Diagnostics;

namespace ScanService.Api.Tests.Tracing;

/// <summary>Traces, when turned on: a request's span with decoding, the queue wait and every stage and head it ran under it.</summary>
public sealed class TracingTests
{
    private static (ScanApiFactory Factory, SpanCollector Spans) Traced(bool batching)
    {
        var spans = new SpanCollector();
        var factory = new ScanApiFactory()
            .With("Tracing:Enabled", "true")
            // Nothing listens there: the OTLP exporter's failures stay in the background, the in-memory one records.
            .With("Tracing:OtlpEndpoint", "http://127.0.0.1:9")
            .With("Batching:Enabled", batching ? "true" : "false");
        factory.AddServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        return (factory, spans);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_full_depth_request_has_decoding_and_every_stage_and_its_head_under_its_own_span(bool batching)
    {
        var (factory, spans) = Traced(batching);
        using var _ = factory;
        using var client = factory.CreateClient();
        // Activity listeners are process-wide: this provider also records the servers of tests running beside this one.
        // The request carries a trace id of its own (W3C traceparent), and only spans of that trace are this request's.
        var traceId = ActivityTraceId.CreateRandom();
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        var answer = await client.ClassifyAsync(FashionMnistImages.Png(0), "?fullDepth=true");
        var exits = answer.ExitCount;

        // Spans are exported as each ends, on the threads that end them: wait until the request's span and every span
        // this request must have are in (or the deadline passes and the assertions below say what is missing).
        string[] expected = [ScanActivities.Decode, .. Enumerable.Range(1, exits).Select(ScanActivities.Stage), ScanActivities.ExitHead(exits)];
        Activity? request = null;
        List<Activity> mine = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var all = spans.Snapshot();
            request = all.FirstOrDefault(s => s.TraceId == traceId && s.Kind == ActivityKind.Server && s.DisplayName.Contains("/v1/classify", StringComparison.Ordinal));
            mine = request is null ? [] : all.Where(s => s.TraceId == request.TraceId && s.Source.Name == ScanActivities.SourceName).ToList();
            if (request is not null && expected.All(n => mine.Any(s => s.DisplayName == n))) break;
            await Task.Delay(20);
        }
        if (request is null)
        {
            var all = spans.Snapshot();
            Assert.Fail($"no request span of trace {traceId} among {all.Count}: {string.Join(", ", all.Select(s => $"{s.Source.Name}/{s.Kind}/{s.DisplayName}"))}");
        }
        var names = mine.Select(s => s.DisplayName).ToHashSet();
        Assert.Contains(ScanActivities.Decode, names);
        for (var k = 1; k <= exits; k++) Assert.Contains(ScanActivities.Stage(k), names);
        // Full depth runs only the last exit's head.
        Assert.Contains(ScanActivities.ExitHead(exits), names);
        Assert.DoesNotContain(ScanActivities.ExitHead(1), names);
        if (batching) Assert.Contains(ScanActivities.QueueWait, names);
        Assert.All(mine, s => Assert.True(s.StartTimeUtc >= request!.StartTimeUtc.AddMilliseconds(-1) && s.Duration >= TimeSpan.Zero, $"{s.DisplayName} lies outside its request"));
        // Stages run in order.
        var stages = Enumerable.Range(1, exits).Select(k => mine.Single(s => s.DisplayName == ScanActivities.Stage(k))).ToList();
        for (var k = 1; k < stages.Count; k++) Assert.True(stages[k].StartTimeUtc >= stages[k - 1].StartTimeUtc);
    }
}

/// <summary>
/// Where the in-memory exporter puts finished spans. It adds from whichever thread ended a span (of this app or, since
/// activity listeners are process-wide, of another test's), so every access takes the lock and readers take a copy.
/// </summary>
internal sealed class SpanCollector : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public List<Activity> Snapshot()
    {
        lock (_spans) return [.. _spans];
    }

    public void Add(Activity item)
    {
        lock (_spans) _spans.Add(item);
    }

    public void Clear()
    {
        lock (_spans) _spans.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_spans) return _spans.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_spans) _spans.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_spans) return _spans.Remove(item);
    }

    public int Count
    {
        get
        {
            lock (_spans) return _spans.Count;
        }
    }

    public bool IsReadOnly => false;

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
