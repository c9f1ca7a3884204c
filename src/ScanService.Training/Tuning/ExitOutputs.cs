namespace ScanService.Training.Tuning;

/// <summary>
/// What every exit of a SCAN network said about each sample of a split, reduced to what threshold tuning
/// needs: the softmax maximum and whether the argmax was right. Stored flat, <c>[sample * ExitCount + exit]</c>,
/// so the simulator walks contiguous memory. The arrays are taken, not copied: do not change them afterwards.
/// </summary>
public sealed class ExitOutputs
{
    private const uint FileMagic = 0x53434E58; // "SCNX"
    // 2 added the per-exit head costs; files of version 1 are still read, without them.
    private const int FileVersion = 2;

    private readonly float[] _confidence;
    private readonly bool[] _correct;
    private readonly long[] _cumulativeCost;
    private readonly int[]? _labels;
    private readonly long[]? _headCost;

    /// <param name="sampleCount">N.</param>
    /// <param name="exitCount">E, at least 1.</param>
    /// <param name="confidence">Softmax maximum per sample and exit, flat [sample * E + exit], each in [0, 1].</param>
    /// <param name="correct">Whether that exit's argmax is the label, same layout.</param>
    /// <param name="cumulativeCost">Multiply-adds per sample of everything that ran until exit k answers (non-decreasing).</param>
    /// <param name="referenceCost">Multiply-adds of the monolithic full-depth graph: the unit of relative cost.</param>
    /// <param name="labels">True label per sample, when known (per-class plots need it).</param>
    /// <param name="headCost">
    /// Multiply-adds per sample of each exit's head (attention module and classifier), when known: a threshold set that
    /// switches an exit off (θ above 1) does not run its head, and the simulator then does not charge it.
    /// </param>
    public ExitOutputs(int sampleCount, int exitCount, float[] confidence, bool[] correct, long[] cumulativeCost, long referenceCost, int[]? labels = null, long[]? headCost = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exitCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(referenceCost);
        ArgumentNullException.ThrowIfNull(confidence);
        ArgumentNullException.ThrowIfNull(correct);
        ArgumentNullException.ThrowIfNull(cumulativeCost);
        long cells = (long)sampleCount * exitCount;
        if (confidence.LongLength != cells)
            throw new ArgumentException($"Expected {cells} confidences (samples x exits), got {confidence.Length}.", nameof(confidence));
        if (correct.LongLength != cells)
            throw new ArgumentException($"Expected {cells} correctness flags (samples x exits), got {correct.Length}.", nameof(correct));
        if (cumulativeCost.Length != exitCount)
            throw new ArgumentException($"Expected {exitCount} cumulative costs, got {cumulativeCost.Length}.", nameof(cumulativeCost));
        for (int k = 0; k < exitCount; k++)
        {
            if (cumulativeCost[k] <= 0)
                throw new ArgumentException($"Cumulative cost of exit {k + 1} must be positive.", nameof(cumulativeCost));
            if (k > 0 && cumulativeCost[k] < cumulativeCost[k - 1])
                throw new ArgumentException("Cumulative costs must not decrease with depth.", nameof(cumulativeCost));
        }
        foreach (float c in confidence)
        {
            // NaN fails this too: a NaN confidence would silently never pass any threshold.
            if (!(c >= 0f && c <= 1f))
                throw new ArgumentException($"Confidences must lie in [0, 1]; found {c}.", nameof(confidence));
        }
        if (labels is not null && labels.Length != sampleCount)
            throw new ArgumentException($"Expected {sampleCount} labels, got {labels.Length}.", nameof(labels));
        if (headCost is not null)
        {
            if (headCost.Length != exitCount)
                throw new ArgumentException($"Expected {exitCount} head costs, got {headCost.Length}.", nameof(headCost));
            for (int k = 0; k < exitCount; k++)
            {
                // Exit k's cumulative cost adds its stage and its head to exit k-1's: the head is at most that step.
                long step = cumulativeCost[k] - (k == 0 ? 0 : cumulativeCost[k - 1]);
                if (headCost[k] < 0 || headCost[k] > step)
                    throw new ArgumentException($"Head cost of exit {k + 1} ({headCost[k]}) must lie in [0, {step}], what exit {k + 1} adds to the cost before it.", nameof(headCost));
            }
        }

        SampleCount = sampleCount;
        ExitCount = exitCount;
        ReferenceCost = referenceCost;
        _confidence = confidence;
        _correct = correct;
        _cumulativeCost = cumulativeCost;
        _labels = labels;
        _headCost = headCost;
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order (a split of a split).</summary>
    public ExitOutputs Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int e = ExitCount;
        var confidence = new float[indices.Count * e];
        var correct = new bool[indices.Count * e];
        var labels = _labels is null ? null : new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(_confidence, indices[i] * e, confidence, i * e, e);
            Array.Copy(_correct, indices[i] * e, correct, i * e, e);
            if (labels is not null) labels[i] = _labels![indices[i]];
        }
        return new ExitOutputs(indices.Count, e, confidence, correct, (long[])_cumulativeCost.Clone(), ReferenceCost, labels, (long[]?)_headCost?.Clone());
    }

    public int SampleCount { get; }
    public int ExitCount { get; }
    /// <summary>Multiply-adds of the monolithic full-depth graph.</summary>
    public long ReferenceCost { get; }

    public ReadOnlySpan<float> Confidences => _confidence;
    public ReadOnlySpan<bool> Correct => _correct;
    public ReadOnlySpan<long> CumulativeCost => _cumulativeCost;
    /// <summary>True labels, or empty when they were not recorded.</summary>
    public ReadOnlySpan<int> Labels => _labels;
    /// <summary>Multiply-adds of each exit's head alone; empty when not known (every head is then charged, run or not).</summary>
    public ReadOnlySpan<long> HeadCost => _headCost;
    public bool HasLabels => _labels is not null;

    internal float[] ConfidenceArray => _confidence;
    internal bool[] CorrectArray => _correct;
    internal long[] CumulativeCostArray => _cumulativeCost;

    public float Confidence(int sample, int exit) => _confidence[(sample * ExitCount) + exit];
    public bool IsCorrect(int sample, int exit) => _correct[(sample * ExitCount) + exit];

    /// <summary>Cost of answering at <paramref name="exit"/> relative to the monolithic graph.</summary>
    public double RelativeCost(int exit) => (double)_cumulativeCost[exit] / ReferenceCost;

    /// <summary>Accuracy of exit <paramref name="exit"/> when every sample answers there.</summary>
    public double ExitAccuracy(int exit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(exit, ExitCount);
        int correct = 0;
        for (int i = exit; i < _correct.Length; i += ExitCount)
        {
            if (_correct[i])
                correct++;
        }
        return (double)correct / SampleCount;
    }

    /// <summary>
    /// Builds the outputs from raw logits: <paramref name="logitsPerExit"/>[k] is [N, classes] row-major for exit k.
    /// Softmax is computed stably (max subtracted) in double so the maximum is exact enough to compare to thresholds.
    /// </summary>
    public static ExitOutputs FromLogits(IReadOnlyList<float[]> logitsPerExit, int classCount, int[] labels, long[] cumulativeCost, long referenceCost)
    {
        ArgumentNullException.ThrowIfNull(logitsPerExit);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        int exits = logitsPerExit.Count;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exits);
        int n = labels.Length;
        var confidence = new float[n * exits];
        var correct = new bool[n * exits];
        for (int k = 0; k < exits; k++)
        {
            float[] logits = logitsPerExit[k];
            if (logits.Length != n * classCount)
                throw new ArgumentException($"Exit {k + 1}: expected {n * classCount} logits, got {logits.Length}.", nameof(logitsPerExit));
            for (int s = 0; s < n; s++)
            {
                ReadOnlySpan<float> row = logits.AsSpan(s * classCount, classCount);
                int arg = 0;
                float max = row[0];
                for (int c = 1; c < classCount; c++)
                {
                    if (row[c] > max)
                    {
                        max = row[c];
                        arg = c;
                    }
                }
                double sum = 0;
                for (int c = 0; c < classCount; c++)
                    sum += Math.Exp(row[c] - max);
                confidence[(s * exits) + k] = (float)Math.Clamp(1.0 / sum, 0.0, 1.0);
                correct[(s * exits) + k] = arg == labels[s];
            }
        }
        return new ExitOutputs(n, exits, confidence, correct, cumulativeCost, referenceCost, labels);
    }

    /// <summary>Writes a compact little-endian binary record, so <c>evaluate</c> can run once and <c>tune</c> many times.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(FileMagic);
        writer.Write(FileVersion);
        writer.Write(SampleCount);
        writer.Write(ExitCount);
        writer.Write(ReferenceCost);
        foreach (long c in _cumulativeCost)
            writer.Write(c);
        foreach (float c in _confidence)
            writer.Write(c);
        foreach (bool c in _correct)
            writer.Write(c);
        writer.Write(_labels is not null);
        if (_labels is not null)
        {
            foreach (int l in _labels)
                writer.Write(l);
        }
        writer.Write(_headCost is not null);
        if (_headCost is not null)
        {
            foreach (long c in _headCost)
                writer.Write(c);
        }
    }

    public void Save(string path)
    {
        using var stream = File.Create(path);
        Save(stream);
    }

    public static ExitOutputs Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        if (reader.ReadUInt32() != FileMagic)
            throw new InvalidDataException("Not a recorded exit-outputs file.");
        int version = reader.ReadInt32();
        if (version is not (1 or FileVersion))
            throw new InvalidDataException($"Exit-outputs file version {version} is not supported (expected 1 or {FileVersion}).");
        int n = reader.ReadInt32();
        int e = reader.ReadInt32();
        if (n <= 0 || e <= 0 || (long)n * e > Array.MaxLength)
            throw new InvalidDataException($"Implausible shape {n} x {e}.");
        long reference = reader.ReadInt64();
        var costs = new long[e];
        for (int k = 0; k < e; k++)
            costs[k] = reader.ReadInt64();
        var confidence = new float[n * e];
        for (int i = 0; i < confidence.Length; i++)
            confidence[i] = reader.ReadSingle();
        var correct = new bool[n * e];
        for (int i = 0; i < correct.Length; i++)
            correct[i] = reader.ReadBoolean();
        int[]? labels = null;
        if (reader.ReadBoolean())
        {
            labels = new int[n];
            for (int i = 0; i < n; i++)
                labels[i] = reader.ReadInt32();
        }
        long[]? heads = null;
        if (version >= 2 && reader.ReadBoolean())
        {
            heads = new long[e];
            for (int k = 0; k < e; k++)
                heads[k] = reader.ReadInt64();
        }
        return new ExitOutputs(n, e, confidence, correct, costs, reference, labels, heads);
    }

    public static ExitOutputs Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }
}
