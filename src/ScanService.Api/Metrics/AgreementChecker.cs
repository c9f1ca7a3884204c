using ScanService.Api.Degradation;
using ScanService.Api.ModelLoading;
using ScanService.Core.Inference;

namespace ScanService.Api.Metrics;

/// <summary>
/// Runs the samples <see cref="AgreementSampler"/> picked on to full depth, in batches, and counts how many early
/// answers agree with the deepest exit's. Its runs bypass the serving path's observers: they are not answers.
/// </summary>
public sealed class AgreementChecker(AgreementSampler sampler, ModelSlot host, ScanMetrics metrics, DegradationController degradation, ILogger<AgreementChecker> logger)
    : BackgroundService
{
    private const int MaxBatch = 32;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AgreementSample>(MaxBatch);
        try
        {
            while (await sampler.Pending.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && sampler.Pending.TryRead(out var sample)) batch.Add(sample);
                foreach (var group in batch.GroupBy(s => s.Model)) Check(group.Key, group.ToList(), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Check(LoadedModel model, List<AgreementSample> samples, CancellationToken stoppingToken)
    {
        // A model replaced since these answers may be closing: its samples are no longer checked.
        using var lease = host.TryLease(model);
        if (lease is null || !ReferenceEquals(host.Current, model))
        {
            Dropped(model, samples.Count);
            return;
        }
        var size = model.Engine.SampleSize;
        var pixels = new float[samples.Count * size];
        for (var i = 0; i < samples.Count; i++) samples[i].Pixels.CopyTo(pixels, i * size);

        Prediction[] deepest;
        try
        {
            deepest = model.Engine.Run(pixels, samples.Count, model.Engine.Resolve(new InferenceOptions { FullDepth = true }), cancellationToken: stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The agreement check could not run {Count} samples at full depth", samples.Count);
            Dropped(model, samples.Count);
            return;
        }
        for (var i = 0; i < samples.Count; i++)
        {
            var agreed = deepest[i].ClassIndex == samples[i].ClassIndex;
            metrics.RecordAgreement(model, samples[i].OperatingPoint, agreed);
            // The live accuracy floor of graceful degradation reads the same checks.
            degradation.RecordAgreement(model, samples[i].OperatingPoint, agreed);
        }
    }

    private void Dropped(LoadedModel model, int count)
    {
        for (var i = 0; i < count; i++) metrics.RecordAgreementDropped(model);
    }
}
