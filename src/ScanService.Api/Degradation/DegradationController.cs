using System.Diagnostics;
using Microsoft.Extensions.Options;
using ScanService.Api.ModelLoading;
using ScanService.Core.Bundle;
using ScanService.Core.Inference;

namespace ScanService.Api.Degradation;

/// <summary>A request's options after the controller saw them: what the engine is asked, and whether that is a cheaper point than the request would get unloaded.</summary>
public readonly record struct DegradedOptions(InferenceOptions Options, bool Degraded);

/// <summary>One decision's inputs and outcome, for /v1/model and the tests.</summary>
/// <param name="Enabled">Whether the controller moves requests at all.</param>
/// <param name="Level">Steps below the base point (0: not degraded).</param>
/// <param name="OperatingPoint">The point requests that did not pin one are served at now.</param>
/// <param name="SignalMilliseconds">The percentile of the signal at the last decision (NaN when no request was measured).</param>
/// <param name="Samples">Requests that percentile was computed over.</param>
/// <param name="Ladder">The steps for the model loaded now.</param>
/// <param name="Blocked">Steps the live accuracy floor took away.</param>
/// <param name="DegradedRequests">Requests served at a cheaper point than their default since the service started.</param>
public sealed record DegradationState(bool Enabled, int Level, string? OperatingPoint, double SignalMilliseconds, int Samples, DegradationLadder Ladder,
    IReadOnlyList<BlockedStep> Blocked, long DegradedRequests);

/// <summary>A step the live accuracy floor took out of the ladder.</summary>
/// <param name="OperatingPoint">The step's point.</param>
/// <param name="EstimatedAccuracy">The lower bound on its accuracy implied by its live agreement with full depth.</param>
/// <param name="Agreement">Agreement with full depth among the sampled answers.</param>
/// <param name="Samples">Sampled answers.</param>
public sealed record BlockedStep(string OperatingPoint, double EstimatedAccuracy, double Agreement, long Samples);

/// <summary>
/// Graceful degradation under overload. Every <see cref="DegradationOptions.IntervalMilliseconds"/> it takes the
/// configured percentile of the signal over the requests measured since its last move (at most a window back): above
/// <see cref="DegradationOptions.DegradeAt"/> × the objective it moves one step down the ladder (a cheaper point), and
/// one more for each doubling past that line;
/// below <see cref="DegradationOptions.RecoverBelow"/> × the objective for <see cref="DegradationOptions.RecoverAfterMilliseconds"/>
/// it moves one step back up; in between it holds. The gap between the two lines and the wait before each step up
/// are the hysteresis that keeps it from oscillating. Only requests that name no operating point, ask for early exit
/// and allow degradation are moved; the others are served as asked. A reload starts the new model undegraded.
/// </summary>
public sealed class DegradationController : IModelObserver
{
    private const int MinSamplesToJudge = 5;

    private readonly DegradationOptions _options;
    private readonly LatencyWindow _window = new();
    private readonly Lock _gate = new();
    private readonly long _recoverAfter;
    private readonly long _windowTicks;
    private readonly Dictionary<string, (long Sampled, long Agreed)> _agreement = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<BlockedStep> _blocked = [];

    private LoadedModel? _model;
    private DegradationLadder _ladder = DegradationLadder.Empty("no model is loaded");
    private double _reference;
    private volatile int _level;
    private long _lastMove;
    private long? _calmSince;
    private double _lastSignal = double.NaN;
    private int _lastSamples;
    private long _degradedRequests;

    public DegradationController(IOptions<DegradationOptions> options)
    {
        _options = options.Value;
        _recoverAfter = Ticks(_options.RecoverAfterMilliseconds);
        _windowTicks = Ticks(_options.WindowMilliseconds);
        _lastMove = Stopwatch.GetTimestamp();
    }

    public DegradationOptions Options => _options;
    public bool Enabled => _options.Enabled;

    /// <summary>Steps below the base point now (0: not degraded).</summary>
    public int Level => _level;

    /// <summary>The point unpinned requests are served at now; null when the controller is off or has no ladder.</summary>
    public OperatingPoint? Current
    {
        get
        {
            var ladder = _ladder;
            return _options.Enabled && ladder.Steps.Count > 0 ? ladder.Steps[Math.Min(_level, ladder.MaxLevel)] : null;
        }
    }

    public void ModelLoaded(LoadedModel model) => Use(model, model.Manifest);

    /// <summary>Starts undegraded on <paramref name="manifest"/>'s ladder (the tests pass a manifest without a loaded model).</summary>
    internal void Use(LoadedModel? model, ModelManifest manifest)
    {
        var ladder = DegradationLadder.For(manifest, _options);
        lock (_gate)
        {
            _model = model;
            _ladder = ladder;
            // Full depth's accuracy is what agreement is measured against; the most accurate point stands in for it.
            _reference = manifest.AllOperatingPoints.Select(p => p.ValidationAccuracy).DefaultIfEmpty(0).Max();
            _level = 0;
            _calmSince = null;
            _lastMove = Stopwatch.GetTimestamp();
            _agreement.Clear();
            _blocked.Clear();
        }
    }

    /// <summary>
    /// The options a request of <paramref name="model"/> runs with: unchanged unless the controller is on, the request
    /// names no operating point, asks for early exit and allows degradation; then the current step's point.
    /// </summary>
    public DegradedOptions Apply(LoadedModel model, InferenceOptions options)
    {
        if (!_options.Enabled || options.OperatingPoint is not null || options.FullDepth || options.Ensemble || !options.AllowDegradation)
            return new DegradedOptions(options, false);
        var ladder = _ladder;
        // A request leased the model the controller has not heard of yet (a reload in progress): serve it as asked.
        if (!ReferenceEquals(model, _model) || ladder.Steps.Count == 0) return new DegradedOptions(options, false);
        var level = Math.Min(_level, ladder.MaxLevel);
        if (level > 0) Interlocked.Increment(ref _degradedRequests);
        return new DegradedOptions(options with { OperatingPoint = ladder.Steps[level].Name }, level > 0);
    }

    /// <summary>One request's measurement of the configured signal.</summary>
    public void Record(TimeSpan value)
    {
        if (_options.Enabled) _window.Record(value.TotalMilliseconds, Stopwatch.GetTimestamp());
    }

    /// <summary>A request refused because the queue was full: counts as a measurement above any objective.</summary>
    public void RecordRefusal()
    {
        if (_options.Enabled) _window.Record(double.PositiveInfinity, Stopwatch.GetTimestamp());
    }

    /// <summary>A sampled early answer of <paramref name="operatingPoint"/> checked against full depth: what the live accuracy floor reads.</summary>
    public void RecordAgreement(LoadedModel? model, string operatingPoint, bool agreed)
    {
        if (!_options.Enabled || _options.AccuracyFloor is null) return;
        lock (_gate)
        {
            if (!ReferenceEquals(model, _model)) return;
            _agreement.TryGetValue(operatingPoint, out var tally);
            _agreement[operatingPoint] = (tally.Sampled + 1, tally.Agreed + (agreed ? 1 : 0));
        }
    }

    /// <summary>One decision on the requests measured so far (the background loop calls it every interval).</summary>
    public void Tick() => Tick(Stopwatch.GetTimestamp());

    internal void Tick(long now)
    {
        long since;
        lock (_gate) since = Math.Max(_lastMove, now - _windowTicks);
        var (value, count) = _window.Percentile(_options.Percentile, since);
        lock (_gate)
        {
            _lastSignal = value;
            _lastSamples = count;
            // Too few requests since the last move to judge it, unless a whole window passed: then little traffic is calm.
            if (count < MinSamplesToJudge && now - _lastMove < _windowTicks) return;
            Decide(count < MinSamplesToJudge ? null : value, now);
        }
    }

    /// <summary>The decision itself, on a signal already measured (null: no traffic); the tests drive it directly.</summary>
    internal int Decide(double? signalMilliseconds, long now)
    {
        lock (_gate)
        {
            UpdateBlocked();
            var deepestAllowed = DeepestAllowed();
            var objective = _options.ObjectiveMilliseconds;
            if (_level > deepestAllowed)
            {
                // The floor took the current step away: back up at once, whatever the load.
                Move(deepestAllowed, now);
            }
            else if (signalMilliseconds > objective * _options.DegradeAt)
            {
                _calmSince = null;
                // Far over the line, several steps at once: one more for each doubling past it (a queue that has
                // filled in a burst does not wait for one step per interval).
                var steps = 1 + (int)Math.Floor(Math.Log2(Math.Min(signalMilliseconds.Value / (objective * _options.DegradeAt), 1 << 10)));
                if (_level < deepestAllowed) Move(Math.Min(deepestAllowed, _level + Math.Max(1, steps)), now);
            }
            else if (signalMilliseconds is null || signalMilliseconds < objective * _options.RecoverBelow)
            {
                _calmSince ??= now;
                if (_level > 0 && now - _calmSince.Value >= _recoverAfter)
                {
                    Move(_level - 1, now);
                    // Each step up waits its own calm period.
                    _calmSince = now;
                }
            }
            else
            {
                // Between the lines: hold, and the calm period starts again.
                _calmSince = null;
            }
            return _level;
        }
    }

    public DegradationState State()
    {
        lock (_gate)
        {
            return new DegradationState(_options.Enabled, _level, Current?.Name, _lastSignal, _lastSamples, _ladder,
                _blocked.ToList(), Interlocked.Read(ref _degradedRequests));
        }
    }

    private void Move(int level, long now)
    {
        _level = level;
        _lastMove = now;
    }

    /// <summary>The deepest step the floor allows: the steps above the first blocked one.</summary>
    private int DeepestAllowed()
    {
        var steps = _ladder.Steps;
        for (var k = 1; k < steps.Count; k++)
        {
            if (_blocked.Any(b => string.Equals(b.OperatingPoint, steps[k].Name, StringComparison.OrdinalIgnoreCase))) return k - 1;
        }
        return _ladder.MaxLevel;
    }

    private void UpdateBlocked()
    {
        if (_options.AccuracyFloor is not { } floor) return;
        foreach (var (point, (sampled, agreed)) in _agreement)
        {
            if (sampled < _options.MinAgreementSamples || _blocked.Any(b => string.Equals(b.OperatingPoint, point, StringComparison.OrdinalIgnoreCase))) continue;
            // An answer that disagrees with full depth can at most turn one right answer wrong: full depth's accuracy
            // less the disagreement is a lower bound on the point's.
            var agreement = (double)agreed / sampled;
            var estimate = _reference - (1 - agreement);
            if (estimate < floor) _blocked.Add(new BlockedStep(point, estimate, agreement, sampled));
        }
    }

    private static long Ticks(int milliseconds) => (long)(milliseconds * (Stopwatch.Frequency / 1000.0));
}
