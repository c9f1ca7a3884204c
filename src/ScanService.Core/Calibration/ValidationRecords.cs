namespace ScanService.Core.Calibration;

/// <summary>
/// What every exit said about each validation image, reduced to what choosing thresholds needs: its softmax maximum
/// and whether its argmax was right. A bundle carries them (<see cref="FileName"/>) so that thresholds can be chosen
/// again where the model is served, against the time each graph takes there, without the training stack. Stored
/// flat, <c>[sample * ExitCount + exit]</c>.
/// </summary>
public sealed class ValidationRecords
{
    public const string FileName = "validation-records.bin";
    private const uint Magic = 0x52564353; // "SCVR"
    private const int Version = 1;

    private readonly float[] _confidence;
    private readonly bool[] _correct;

    public ValidationRecords(int sampleCount, int exitCount, float[] confidence, bool[] correct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exitCount);
        var cells = (long)sampleCount * exitCount;
        if (confidence.LongLength != cells || correct.LongLength != cells)
            throw new ArgumentException($"expected {cells} confidences and correctness flags ({sampleCount} samples × {exitCount} exits), got {confidence.Length} and {correct.Length}");
        foreach (var c in confidence)
        {
            if (!(c >= 0f && c <= 1f)) throw new ArgumentException($"confidences must lie in [0, 1]; found {c}");
        }
        SampleCount = sampleCount;
        ExitCount = exitCount;
        _confidence = confidence;
        _correct = correct;
    }

    public int SampleCount { get; }
    public int ExitCount { get; }

    public float Confidence(int sample, int exit) => _confidence[(sample * ExitCount) + exit];
    public bool IsCorrect(int sample, int exit) => _correct[(sample * ExitCount) + exit];

    public void Save(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(SampleCount);
        writer.Write(ExitCount);
        foreach (var c in _confidence) writer.Write(c);
        foreach (var c in _correct) writer.Write(c);
    }

    public static ValidationRecords Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadUInt32() != Magic) throw new InvalidDataException($"{path} is not a validation-records file");
            var version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"{path}: validation-records version {version} is not supported (expected {Version})");
            var n = reader.ReadInt32();
            var e = reader.ReadInt32();
            if (n <= 0 || e <= 0 || (long)n * e > 100_000_000) throw new InvalidDataException($"{path}: implausible shape {n} × {e}");
            var confidence = new float[n * e];
            for (var i = 0; i < confidence.Length; i++) confidence[i] = reader.ReadSingle();
            var correct = new bool[n * e];
            for (var i = 0; i < correct.Length; i++) correct[i] = reader.ReadBoolean();
            return new ValidationRecords(n, e, confidence, correct);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path} ends before its records do");
        }
    }
}
