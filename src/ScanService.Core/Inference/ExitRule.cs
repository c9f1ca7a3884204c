namespace ScanService.Core.Inference;

/// <summary>
/// The early-exit rule, the one place it is written: a sample leaves at the first exit whose softmax maximum is at
/// least that exit's threshold; the last allowed exit always answers. The engine, the dynamic batcher and the
/// training tool's threshold search (which replays it over recorded confidences) all decide through this.
/// </summary>
public static class ExitRule
{
    /// <summary>
    /// A threshold no softmax maximum reaches (they are at most 1): the exit never lets a sample leave. Finite, so
    /// that a manifest's JSON can carry it; any threshold above 1 means the same.
    /// </summary>
    public const float NeverExit = 2f;

    /// <summary>
    /// Whether a sample whose softmax maximum at an exit is <paramref name="confidence"/> leaves there, unless it is the
    /// last allowed exit, which always answers (callers that replay the rule give it a threshold of -∞).
    /// </summary>
    public static bool Leaves(float confidence, float threshold) => confidence >= threshold;

    /// <summary>A threshold above 1 switches its exit off: no sample can leave there, so its head need not run.</summary>
    public static bool SwitchedOff(float threshold) => threshold > 1f;

    /// <summary>Thresholds for a log line or a table: three decimals, "off" for a switched-off exit.</summary>
    public static string Describe(IEnumerable<float> thresholds) =>
        string.Join(" ", thresholds.Select(t => SwitchedOff(t) ? "off" : t.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// One sample's decision at exit <paramref name="exit"/> (0-based), given that exit's logits: its answer when it
    /// leaves here, null when it goes on. Under the ensemble, <paramref name="ensembleSum"/> (one value per class, kept
    /// by the caller across exits) accumulates the logits and only the last allowed exit answers, with their mean.
    /// </summary>
    public static Prediction? Decide(int exit, ReadOnlySpan<float> logits, ExitPlan plan, Span<float> ensembleSum)
    {
        var isLast = exit == plan.LastExit - 1;
        if (plan.Mode == ExitMode.Ensemble)
        {
            for (var c = 0; c < logits.Length; c++) ensembleSum[c] += logits[c];
            if (!isLast) return null;
            for (var c = 0; c < logits.Length; c++) ensembleSum[c] /= plan.LastExit;
            logits = ensembleSum;
        }
        Span<float> probabilities = stackalloc float[logits.Length];
        var arg = Softmax.Compute(logits, probabilities);
        return isLast || Leaves(probabilities[arg], plan.Thresholds[exit])
            ? new Prediction(arg, probabilities[arg], exit + 1, probabilities.ToArray())
            : null;
    }

    /// <summary>
    /// Whether a sample under <paramref name="plan"/> needs exit <paramref name="exit"/>'s (0-based) head: full depth
    /// runs only the last allowed one; early exit skips the heads of exits its thresholds switch off (above 1, so no
    /// sample could leave there); the ensemble runs them all.
    /// </summary>
    public static bool NeedsHead(ExitPlan plan, int exit)
    {
        if (exit >= plan.LastExit) return false;
        var isLast = exit == plan.LastExit - 1;
        return plan.Mode switch
        {
            ExitMode.FullDepth => isLast,
            ExitMode.EarlyExit => isLast || !SwitchedOff(plan.Thresholds[exit]),
            _ => true,
        };
    }
}
