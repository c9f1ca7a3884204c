using System.ComponentModel.DataAnnotations;

namespace ScanService.Api.Metrics;

/// <summary>Configuration section "Metrics".</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// Share of early-exit answers that are run on to full depth after they were given, to count how often the
    /// early answer agrees with the deepest exit's. 0 turns the check off; each sample costs one full-depth run.
    /// </summary>
    [Range(0.0, 1.0)]
    public double AgreementSampleRate { get; set; } = 0.01;

    /// <summary>Samples waiting for their full-depth run; past this, new samples are dropped (and counted), never waited for.</summary>
    [Range(1, 65536)]
    public int AgreementQueueCapacity { get; set; } = 256;
}
