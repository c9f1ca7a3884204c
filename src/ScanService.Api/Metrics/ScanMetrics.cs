using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using ScanService.Api.Degradation;
using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>
/// Owns the service's <see cref="Meter"/> and every instrument on it; the observers, the request middleware and
/// the gRPC interceptor only call its methods. Names are OpenTelemetry's; the Prometheus exporter appends the unit
/// and <c>_total</c> (<c>scan.request.duration</c> in s becomes <c>scan_request_duration_seconds</c>,
/// <c>scan.exits</c> becomes <c>scan_exits_total</c>). Labels take few values: the model's exits and stages, its
/// operating points, three front ends and five outcomes. Histograms carry explicit buckets fitted to what they measure.
/// </summary>
public sealed class ScanMetrics : IModelObserver
{
    public const string MeterName = "ScanService";

    /// <summary>The exit-depth histogram has one bucket per exit up to this many; deeper exits fall into +Inf.</summary>
    public const int MaxExitBuckets = 8;

    /// <summary>Labels an answer of a plan without an operating point: a bundle without a default, asked for none.</summary>
    public const string NoOperatingPoint = "none";

    // Whole requests: from a cache-warm 1 ms to a large batch queued behind others.
    private static readonly double[] RequestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    // One graph run: tens of microseconds for a small head on CPU up to a large batch of the deepest stage.
    private static readonly double[] GraphBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    private static readonly double[] QueueWaitBuckets = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    private static readonly int[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
    private static readonly string[] Numbers = Enumerable.Range(0, 33).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private volatile LoadedModel? _model;
    private readonly Meter _meter;
    private readonly Counter<long> _exits;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _stageDuration;
    private readonly Histogram<double> _exitHeadDuration;
    private readonly Counter<long> _stageSamples;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _agreementSampled;
    private readonly Counter<long> _agreementAgreed;
    private readonly Counter<long> _agreementDropped;
    private readonly Counter<long> _degraded;
    private readonly Lock _modelGate = new();
    private Histogram<double>? _exitDepth;
    private int _queueDepth;

    public ScanMetrics(IMeterFactory meterFactory, DegradationController degradation)
    {
        _meter = meterFactory.Create(MeterName);

        _exits = _meter.CreateCounter<long>("scan.exits", "{answer}",
            "Answers given, by the exit (1-based) that gave them, model and operating point (or fullDepth, ensemble).");
        _requestDuration = _meter.CreateHistogram("scan.request.duration", "s",
            "Time to answer a request, by front end (rest, v2, grpc) and outcome.", advice: Buckets(RequestBuckets));
        _stageDuration = _meter.CreateHistogram("scan.stage.duration", "s",
            "Time one backbone stage took on one batch.", advice: Buckets(GraphBuckets));
        _exitHeadDuration = _meter.CreateHistogram("scan.exit.head.duration", "s",
            "Time one exit head (attention and classifier) took on one batch.", advice: Buckets(GraphBuckets));
        _stageSamples = _meter.CreateCounter<long>("scan.stage.samples", "{sample}",
            "Samples a backbone stage ran on: what early exits saved shows as fewer samples in deeper stages.");
        _batchSize = _meter.CreateHistogram("scan.batch.size", "{sample}",
            "Samples in a batch formed for a stage.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        _queueWait = _meter.CreateHistogram("scan.queue.wait", "s",
            "Time a request waited before its first stage ran.", advice: Buckets(QueueWaitBuckets));
        _meter.CreateObservableGauge("scan.queue.depth", () => Volatile.Read(ref _queueDepth), "{request}",
            "Requests waiting for a batch.");
        _rejected = _meter.CreateCounter<long>("scan.requests.rejected", "{request}",
            "Requests refused at once because the queue was full.");
        _agreementSampled = _meter.CreateCounter<long>("scan.agreement.sampled", "{answer}",
            "Sampled early-exit answers checked against the full-depth answer.");
        _agreementAgreed = _meter.CreateCounter<long>("scan.agreement.agreed", "{answer}",
            "Sampled early-exit answers whose class equals the full-depth answer's.");
        _agreementDropped = _meter.CreateCounter<long>("scan.agreement.dropped", "{answer}",
            "Sampled answers not checked because the check's queue was full or the model changed.");
        _meter.CreateObservableGauge("scan.model.info", ObserveModel, unit: null,
            "The model served (name, version, exit count) and the execution provider running it; always 1.");
        _degraded = _meter.CreateCounter<long>("scan.answers.degraded", "{answer}",
            "Answers served at a cheaper operating point than asked for because the service was overloaded, by the point that served them.");
        _meter.CreateObservableGauge("scan.degradation.level", () => ObserveDegradation(degradation, point => degradation.Level), "{step}",
            "Graceful degradation: steps below the base operating point that unpinned requests are served at now (0: not degraded).");
        _meter.CreateObservableGauge("scan.degradation.relative_cost", () => ObserveDegradation(degradation, point => point.RelativeCost), unit: null,
            "Graceful degradation: validation cost, relative to full depth, of the point unpinned requests are served at now.");

    }

    /// <summary>The <c>operating_point</c> label of an answer's plan.</summary>
    public static string OperatingPointLabel(ExitPlan plan) => plan.Mode switch
    {
        ExitMode.FullDepth => "fullDepth",
        ExitMode.Ensemble => "ensemble",
        _ => plan.OperatingPoint ?? NoOperatingPoint,
    };

    /// <summary>For exits 1..<paramref name="exits"/>: k - 0.001 and k for each (see where the histogram is made).</summary>
    public static double[] ExitDepthBoundaries(int exits) =>
        Enumerable.Range(1, exits).SelectMany(k => new[] { k - ExitDepthSliver, k }).ToArray();

    private const double ExitDepthSliver = 0.001;

    public void RecordAnswer(LoadedModel model, ExitPlan plan, int exit)
    {
        var tags = new TagList { { "model", model.Name }, { "operating_point", OperatingPointLabel(plan) } };
        Volatile.Read(ref _exitDepth)?.Record(exit, tags);
        if (plan.Degraded) _degraded.Add(1, tags);
        tags.Add("exit", Number(exit));
        _exits.Add(1, tags);
    }

    /// <summary>A gauge of the controller's current point, labelled with it; nothing while degradation is off.</summary>
    private IEnumerable<Measurement<T>> ObserveDegradation<T>(DegradationController degradation, Func<Core.Bundle.OperatingPoint, T> value) where T : struct
    {
        if (_model is not { } model || degradation.Current is not { } point) return [];
        return [new Measurement<T>(value(point), new KeyValuePair<string, object?>("model", model.Name), new KeyValuePair<string, object?>("operating_point", point.Name))];
    }

    public void RecordRequest(FrontEnd frontEnd, RequestOutcome outcome, TimeSpan duration) =>
        _requestDuration.Record(duration.TotalSeconds,
            new KeyValuePair<string, object?>("front_end", frontEnd.Label()), new KeyValuePair<string, object?>("outcome", outcome.Label()));

    public void RecordStage(int stage, int batchSize, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("stage", Number(stage));
        _stageDuration.Record(duration.TotalSeconds, tag);
        _stageSamples.Add(batchSize, tag);
    }

    public void RecordExitHead(int exit, TimeSpan duration) =>
        _exitHeadDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("exit", Number(exit)));

    public void RecordBatch(int stage, int size) => _batchSize.Record(size, new KeyValuePair<string, object?>("stage", Number(stage)));

    public void SetQueueDepth(int depth) => Volatile.Write(ref _queueDepth, depth);

    public void RecordQueueWait(TimeSpan wait) => _queueWait.Record(wait.TotalSeconds);

    public void RecordRejected() => _rejected.Add(1);

    public void RecordAgreement(LoadedModel model, string operatingPoint, bool agreed)
    {
        var tags = new TagList { { "model", model.Name }, { "operating_point", operatingPoint } };
        _agreementSampled.Add(1, tags);
        if (agreed) _agreementAgreed.Add(1, tags);
    }

    public void RecordAgreementDropped(LoadedModel model) => _agreementDropped.Add(1, new KeyValuePair<string, object?>("model", model.Name));

    /// <summary>The model the service answers with from now on: the model-info gauge describes it, and the exit-depth histogram takes its exits.</summary>
    public void ModelLoaded(LoadedModel model)
    {
        _model = model;
        lock (_modelGate)
        {
            // Bucket boundaries are fixed when the instrument is made, so the first model loaded sets them. Each exit k
            // gets two: k - 0.001 and k. Every answer at exit k lands in (k - 0.001, k], so histogram_quantile
            // interpolates inside that sliver and reads as the exit (p50 is 0.9995 when every answer left at exit 1;
            // with boundaries 1..4 alone it would interpolate from 0 and say 0.5). le="k" still counts answers at
            // exits 1..k.
            if (_exitDepth is null)
            {
                var exits = Math.Clamp(model.Engine.ExitCount, 1, MaxExitBuckets);
                var boundaries = ExitDepthBoundaries(exits);
                Volatile.Write(ref _exitDepth, _meter.CreateHistogram<double>("scan.exit.depth", "{exit}",
                    "The exit (1-based) that answered, by model and operating point; histogram_quantile of it reads as an exit.",
                    advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = boundaries }));
            }
        }
        // A counter never incremented exports no series, and rate() over a missing series is empty instead of 0:
        // the counters that may stay quiet for long start at zero. This happens here, not in the constructor,
        // because the meter provider only listens from the host's start, and the model loads after that.
        _rejected.Add(0);
        foreach (var point in model.Manifest.OperatingPoints)
        {
            var tags = new TagList { { "model", model.Name }, { "operating_point", point.Name } };
            _agreementSampled.Add(0, tags);
            _agreementAgreed.Add(0, tags);
            for (var exit = 1; exit <= model.Engine.ExitCount; exit++)
            {
                var exitTags = tags;
                exitTags.Add("exit", Number(exit));
                _exits.Add(0, exitTags);
            }
        }
        _agreementDropped.Add(0, new KeyValuePair<string, object?>("model", model.Name));
    }

    private IEnumerable<Measurement<int>> ObserveModel()
    {
        if (_model is not { } model) return [];
        return
        [
            new Measurement<int>(1,
                new KeyValuePair<string, object?>("model", model.Name),
                new KeyValuePair<string, object?>("version", model.Version),
                new KeyValuePair<string, object?>("execution_provider", model.Engine.Provider.Name),
                new KeyValuePair<string, object?>("feature_memory", model.Engine.FeatureMemory == FeatureMemory.Device ? "device" : "host"),
                new KeyValuePair<string, object?>("exits", Number(model.Engine.ExitCount))),
        ];
    }

    private static InstrumentAdvice<double> Buckets(double[] boundaries) => new() { HistogramBucketBoundaries = boundaries };

    private static string Number(int value) =>
        (uint)value < (uint)Numbers.Length ? Numbers[value] : value.ToString(CultureInfo.InvariantCulture);

}
