using System.Threading.Channels;
using Microsoft.Extensions.Options;
using ScanService.Api.Classifier;
using ScanService.Api.Degradation;
using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>An early answer picked for the agreement check: the sample it was given for and the class it gave.</summary>
public sealed record AgreementSample(LoadedModel Model, string OperatingPoint, float[] Pixels, int ClassIndex);

/// <summary>
/// Picks a configured share of early-exit answers for the agreement check. It only queues them: the full-depth
/// run happens later in <see cref="AgreementChecker"/>, off the request's path. When the queue is full the
/// sample is dropped and counted; a request never waits for the check.
/// </summary>
public sealed class AgreementSampler : IClassificationObserver
{
    private readonly Channel<AgreementSample> _pending;
    private readonly ScanMetrics _metrics;
    private readonly DegradationController _degradation;
    private readonly double _rate;

    public AgreementSampler(IOptions<MetricsOptions> options, ScanMetrics metrics, DegradationController degradation)
    {
        _metrics = metrics;
        _degradation = degradation;
        _rate = options.Value.AgreementSampleRate;
        _pending = Channel.CreateBounded<AgreementSample>(new BoundedChannelOptions(options.Value.AgreementQueueCapacity)
        {
            SingleReader = true,
            // With Wait, TryWrite answers false at once when full instead of silently replacing a queued sample.
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<AgreementSample> Pending => _pending.Reader;

    public void Answered(LoadedModel model, ExitPlan plan, ReadOnlyMemory<float> sample, Prediction prediction)
    {
        // Full-depth answers are the reference itself; ensemble answers are not early exits.
        if (plan.Mode != ExitMode.EarlyExit || _rate <= 0) return;
        if (_rate < 1 && Random.Shared.NextDouble() >= _rate) return;

        var operatingPoint = ScanMetrics.OperatingPointLabel(plan);
        // An answer from the deepest exit is the full-depth answer: the same graphs on the same sample.
        if (prediction.Exit == model.Engine.ExitCount)
        {
            _metrics.RecordAgreement(model, operatingPoint, agreed: true);
            _degradation.RecordAgreement(model, operatingPoint, agreed: true);
            return;
        }
        // The request's buffer belongs to the request; the check keeps its own copy of the one sample.
        if (!_pending.Writer.TryWrite(new AgreementSample(model, operatingPoint, sample.ToArray(), prediction.ClassIndex)))
            _metrics.RecordAgreementDropped(model);
    }
}
