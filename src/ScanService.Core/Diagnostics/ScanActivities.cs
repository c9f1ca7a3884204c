using System.Diagnostics;

namespace ScanService.Core.Diagnostics;

/// <summary>
/// The spans the service's own work makes, under the request's trace: decoding, the wait in the batcher's queue, and
/// each backbone stage and exit head a request's samples ran through. A stage runs once for a whole batch, so each
/// request in it gets a span of its own, with the batch's start, end and size. Nothing is made while no listener is
/// attached (tracing is off by default), so the serving path pays nothing for it then.
/// </summary>
public static class ScanActivities
{
    public const string SourceName = "ScanService";

    public static readonly ActivitySource Source = new(SourceName);

    public const string Decode = "decode";
    public const string QueueWait = "queue wait";

    public static string Stage(int stage) => $"stage {stage}";

    public static string ExitHead(int exit) => $"exit head {exit}";

    /// <summary>The trace a request's later spans belong under: the current activity when it arrives, if any.</summary>
    public static ActivityContext CurrentContext() => Activity.Current?.Context ?? default;

    /// <summary>
    /// Records a span that already happened (between two <see cref="Stopwatch"/> timestamps) under
    /// <paramref name="parent"/>; nothing when no one listens or the request came without a trace.
    /// </summary>
    public static void Record(string name, ActivityContext parent, long startTimestamp, long endTimestamp, int batchSize)
    {
        if (parent == default || !Source.HasListeners()) return;
        var now = DateTimeOffset.UtcNow;
        var start = now - Stopwatch.GetElapsedTime(startTimestamp);
        using var activity = Source.StartActivity(name, ActivityKind.Internal, parent, startTime: start);
        if (activity is null) return;
        activity.SetTag("scan.batch.size", batchSize);
        activity.SetEndTime((now - Stopwatch.GetElapsedTime(endTimestamp)).UtcDateTime);
    }
}

/// <summary>
/// Spans for the stages and heads of one request run by <see cref="Inference.EarlyExitEngine.Run"/> (batching off),
/// under the trace that request belongs to.
/// </summary>
public sealed class RequestStageSpans(ActivityContext parent) : Inference.IInferenceObserver
{
    public void StageCompleted(int stage, int batchSize, TimeSpan duration) =>
        Record(ScanActivities.Stage(stage), batchSize, duration);

    public void ExitHeadCompleted(int exit, int batchSize, TimeSpan duration) =>
        Record(ScanActivities.ExitHead(exit), batchSize, duration);

    private void Record(string name, int batchSize, TimeSpan duration)
    {
        var end = Stopwatch.GetTimestamp();
        ScanActivities.Record(name, parent, end - (long)(duration.TotalSeconds * Stopwatch.Frequency), end, batchSize);
    }
}
