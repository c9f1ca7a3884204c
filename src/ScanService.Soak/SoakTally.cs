namespace ScanService.Soak;

/// <summary>The answer the service gave for an image and profile before any load: what every later answer must equal.</summary>
public readonly record struct ExpectedAnswer(int ClassIndex, int Exit);

/// <summary>An image sent with a profile, and its reference answer.</summary>
public sealed record SoakCase(int Image, OptionProfile Profile, ExpectedAnswer Expected);

/// <summary>How one request ended.</summary>
public enum Outcome
{
    /// <summary>The reference answer came back.</summary>
    Answered,
    /// <summary>A documented refusal of a saturated service: 429 or RESOURCE_EXHAUSTED.</summary>
    Refused,
    /// <summary>Anything undocumented: another status, a broken connection, no answer in time.</summary>
    Error,
    /// <summary>An answer whose class or exit differs from the reference.</summary>
    Wrong,
    /// <summary>A request built to be refused (an image over the size limit) got its documented refusal.</summary>
    Declined,
    /// <summary>An item of a call this client cancelled on purpose, left unanswered as it should be.</summary>
    Cancelled,
}

/// <summary>What one route (REST /v1 raw, multipart, /v2, gRPC unary, gRPC stream) saw, kept by one client at a time.</summary>
public sealed class RouteTally
{
    public long Requests { get; private set; }
    public long Answered { get; private set; }
    public long Refused { get; private set; }
    public long Errors { get; private set; }
    public long Wrong { get; private set; }
    public long Declined { get; private set; }
    public long Cancelled { get; private set; }
    /// <summary>Latencies of the requests that got an answer (right or wrong), in ms.</summary>
    public List<double> LatenciesMs { get; } = [];

    public void Add(Outcome outcome, double latencyMs)
    {
        Requests++;
        switch (outcome)
        {
            case Outcome.Answered: Answered++; LatenciesMs.Add(latencyMs); break;
            case Outcome.Wrong: Wrong++; LatenciesMs.Add(latencyMs); break;
            case Outcome.Refused: Refused++; break;
            case Outcome.Declined: Declined++; break;
            case Outcome.Cancelled: Cancelled++; break;
            default: Errors++; break;
        }
    }

    public void Add(RouteTally other)
    {
        Requests += other.Requests;
        Answered += other.Answered;
        Refused += other.Refused;
        Errors += other.Errors;
        Wrong += other.Wrong;
        Declined += other.Declined;
        Cancelled += other.Cancelled;
        LatenciesMs.AddRange(other.LatenciesMs);
    }
}

/// <summary>
/// Counts of the whole soak, updated by every client as requests end, so that progress can be shown while it runs;
/// the first problems are kept word for word for the report.
/// </summary>
public sealed class SoakProgress
{
    private const int ProblemsKept = 20;
    private readonly List<string> _problems = [];
    private long _requests, _refused, _errors, _wrong;

    public long Requests => Interlocked.Read(ref _requests);
    public long Refused => Interlocked.Read(ref _refused);
    public long Errors => Interlocked.Read(ref _errors);
    public long Wrong => Interlocked.Read(ref _wrong);

    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems) return [.. _problems];
        }
    }

    public void Count(Outcome outcome, string? problem)
    {
        Interlocked.Increment(ref _requests);
        if (outcome == Outcome.Refused) Interlocked.Increment(ref _refused);
        if (outcome == Outcome.Error) Interlocked.Increment(ref _errors);
        if (outcome == Outcome.Wrong) Interlocked.Increment(ref _wrong);
        if (problem is null) return;
        lock (_problems)
        {
            if (_problems.Count < ProblemsKept) _problems.Add(problem);
        }
    }
}
