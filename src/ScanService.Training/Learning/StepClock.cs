using System.Diagnostics;
using System.Text.Json.Serialization;

namespace ScanService.Training.Learning;

/// <summary>The parts of a training step whose wall time a run records.</summary>
public enum StepPhase
{
    /// <summary>Reading, augmenting and normalising the batch and making its tensors.</summary>
    Data,
    /// <summary>The network's forward pass and the loss (CPU kernels run synchronously, so this is their whole time).</summary>
    Forward,
    /// <summary>Clearing the gradients and back-propagation.</summary>
    Backward,
    /// <summary>The optimiser's update of the weights.</summary>
    Optimizer,
    /// <summary>Bookkeeping: running sums, accuracy, progress, freeing the step's tensors.</summary>
    Other,
}

/// <summary>Seconds an epoch spent in each <see cref="StepPhase"/>, summed over its steps.</summary>
public sealed record StepSeconds(double Data, double Forward, double Backward, double Optimizer, double Other)
{
    [JsonIgnore]
    public double Total => Data + Forward + Backward + Optimizer + Other;

    /// <summary>"data 0.4 % · forward 31 % · …", for a log line.</summary>
    public string Describe()
    {
        var total = Math.Max(Total, 1e-12);
        return $"data {Data / total:P1} · forward {Forward / total:P1} · backward {Backward / total:P1} · optimiser {Optimizer / total:P1} · other {Other / total:P1}";
    }
}

/// <summary>
/// Splits the wall time of training steps into phases: <see cref="Start"/> at the top of a step, then
/// <see cref="Lap"/> at the end of each phase charges the time since the previous mark to it.
/// </summary>
public sealed class StepClock
{
    private readonly double[] _seconds = new double[Enum.GetValues<StepPhase>().Length];
    private long _mark;

    public void Start() => _mark = Stopwatch.GetTimestamp();

    public void Lap(StepPhase phase)
    {
        var now = Stopwatch.GetTimestamp();
        _seconds[(int)phase] += Stopwatch.GetElapsedTime(_mark, now).TotalSeconds;
        _mark = now;
    }

    public StepSeconds Totals() => new(
        _seconds[(int)StepPhase.Data], _seconds[(int)StepPhase.Forward], _seconds[(int)StepPhase.Backward],
        _seconds[(int)StepPhase.Optimizer], _seconds[(int)StepPhase.Other]);
}
