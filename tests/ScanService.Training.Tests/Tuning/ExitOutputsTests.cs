using ScanService.Training.Tuning;

namespace ScanService.Training.Tests.Tuning;

public class ExitOutputsTests
{
    [Fact]
    public void FromLogits_ComputesSoftmaxMaximumAndCorrectness()
    {
        // Two samples, three classes, two exits.
        float[] exit1 = [2f, 0f, 0f, /**/ 0f, 0f, 0f];
        float[] exit2 = [0f, 5f, 0f, /**/ 1f, 3f, -1f];
        int[] labels = [0, 1];
        ExitOutputs o = ExitOutputs.FromLogits([exit1, exit2], 3, labels, [10, 20], 15);

        double e2 = Math.Exp(2);
        Assert.Equal(e2 / (e2 + 2), o.Confidence(0, 0), 5);
        Assert.True(o.IsCorrect(0, 0));
        Assert.Equal(1.0 / 3.0, o.Confidence(1, 0), 5);
        Assert.False(o.IsCorrect(1, 0)); // argmax of a tie is the first class, label is 1
        Assert.False(o.IsCorrect(0, 1));
        Assert.True(o.IsCorrect(1, 1));
        Assert.Equal(0.5, o.ExitAccuracy(0));
        Assert.Equal(labels, o.Labels.ToArray());
        Assert.Equal(20.0 / 15.0, o.RelativeCost(1), 12);
    }

    [Fact]
    public void SaveAndLoad_RoundTrips()
    {
        ExitOutputs o = TuningTestData.Realistic(257, seed: 3);
        using var ms = new MemoryStream();
        o.Save(ms);
        ms.Position = 0;
        ExitOutputs back = ExitOutputs.Load(ms);
        Assert.Equal(o.SampleCount, back.SampleCount);
        Assert.Equal(o.ExitCount, back.ExitCount);
        Assert.Equal(o.ReferenceCost, back.ReferenceCost);
        Assert.Equal(o.CumulativeCost.ToArray(), back.CumulativeCost.ToArray());
        Assert.Equal(o.Confidences.ToArray(), back.Confidences.ToArray());
        Assert.Equal(o.Correct.ToArray(), back.Correct.ToArray());
        Assert.Equal(o.Labels.ToArray(), back.Labels.ToArray());
    }

    [Fact]
    public void Head_costs_round_trip_and_files_written_before_them_still_load()
    {
        ExitOutputs plain = TuningTestData.Realistic(64, seed: 4);
        long[] cumulative = plain.CumulativeCost.ToArray();
        long[] heads = [.. cumulative.Select((c, k) => (c - (k == 0 ? 0 : cumulative[k - 1])) / 3)];
        var withHeads = new ExitOutputs(plain.SampleCount, plain.ExitCount, plain.Confidences.ToArray(), plain.Correct.ToArray(), cumulative, plain.ReferenceCost, plain.Labels.ToArray(), heads);
        using var ms = new MemoryStream();
        withHeads.Save(ms);
        ms.Position = 0;
        Assert.Equal(heads, ExitOutputs.Load(ms).HeadCost.ToArray());

        // Version 1 wrote no head costs and no flag for them: the same bytes, version 1, without the last byte.
        using var current = new MemoryStream();
        plain.Save(current);
        byte[] v1 = current.ToArray()[..^1];
        BitConverter.GetBytes(1).CopyTo(v1, 4);
        ExitOutputs old = ExitOutputs.Load(new MemoryStream(v1));
        Assert.True(old.HeadCost.IsEmpty);
        Assert.Equal(plain.Confidences.ToArray(), old.Confidences.ToArray());

        // A head cannot cost more than what its exit adds to the cost before it.
        long[] tooBig = [.. heads];
        tooBig[1] = cumulative[1];
        Assert.Throws<ArgumentException>(() => new ExitOutputs(plain.SampleCount, plain.ExitCount, plain.Confidences.ToArray(), plain.Correct.ToArray(), cumulative, plain.ReferenceCost, headCost: tooBig));
    }

    [Fact]
    public void Load_RejectsForeignData()
    {
        using var ms = new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Throws<InvalidDataException>(() => ExitOutputs.Load(ms));
    }

    [Fact]
    public void Constructor_ValidatesShapesAndRanges()
    {
        Assert.Throws<ArgumentException>(() => new ExitOutputs(2, 2, new float[3], new bool[4], [1, 2], 2));
        Assert.Throws<ArgumentException>(() => new ExitOutputs(1, 2, [0.5f, 1.5f], new bool[2], [1, 2], 2));
        Assert.Throws<ArgumentException>(() => new ExitOutputs(1, 2, [0.5f, float.NaN], new bool[2], [1, 2], 2));
        Assert.Throws<ArgumentException>(() => new ExitOutputs(1, 2, [0.5f, 0.5f], new bool[2], [3, 2], 2));
        Assert.Throws<ArgumentException>(() => new ExitOutputs(1, 2, [0.5f, 0.5f], new bool[2], [1, 2], 2, labels: [0, 1]));
    }
}
