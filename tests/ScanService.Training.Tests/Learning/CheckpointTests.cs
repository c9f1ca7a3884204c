using ScanService.Training.Learning;

namespace ScanService.Training.Tests.Learning;

public class CheckpointTests
{
    private sealed class Killed : Exception;

    /// <summary>Epoch 1 and 3 improve on the best validation accuracy, epoch 2 does not.</summary>
    private static readonly (double Accuracy, bool Improved)[] Epochs = [(0.80, true), (0.79, false), (0.85, true)];

    private static void Save(RunFolder run, int epoch)
    {
        var best = Enumerable.Range(1, epoch).MaxBy(e => Epochs[e - 1].Accuracy);
        var state = new CheckpointState(epoch, Epochs[best - 1].Accuracy, best, epoch * 10.0);
        run.SaveCheckpoint(state, (weights, optimizer) =>
        {
            File.WriteAllText(weights, $"epoch {epoch}");
            File.WriteAllText(optimizer, $"optimizer {epoch}");
        }, Epochs[epoch - 1].Improved);
    }

    public static TheoryData<int, string> KillPoints()
    {
        var data = new TheoryData<int, string>();
        foreach (var epoch in new[] { 1, 2, 3 })
            foreach (var step in RunFolder.CheckpointSteps)
                data.Add(epoch, step);
        return data;
    }

    [Theory]
    [MemberData(nameof(KillPoints))]
    public void A_kill_at_any_step_of_a_checkpoint_leaves_best_weights_that_the_state_describes(int epoch, string step)
    {
        using var scratch = new ScratchFolder();
        var root = scratch.PathOf("run");
        Directory.CreateDirectory(root);
        var run = new RunFolder(root);
        for (var e = 1; e < epoch; e++) Save(run, e);

        var dying = new RunFolder(root) { CheckpointStepCompleted = s => { if (s == step) throw new Killed(); } };
        Assert.Throws<Killed>(() => Save(dying, epoch));

        var resumed = new RunFolder(root);
        resumed.RecoverInterruptedCheckpoint();
        if (epoch == 1 && !resumed.HasCheckpoint)
        {
            // Killed before the first checkpoint was in place: a resume starts from scratch, with no best weights.
            Assert.False(File.Exists(resumed.BestWeightsFile));
            return;
        }
        var state = resumed.ReadState();
        Assert.InRange(state.CompletedEpochs, epoch - 1, epoch);
        Assert.Equal($"epoch {state.CompletedEpochs}", File.ReadAllText(resumed.WeightsFile));
        Assert.Equal($"optimizer {state.CompletedEpochs}", File.ReadAllText(resumed.OptimizerFile));
        Assert.Equal($"epoch {state.BestEpoch}", File.ReadAllText(resumed.BestWeightsFile));

        // The run goes on from there and ends as an uninterrupted one.
        for (var e = state.CompletedEpochs + 1; e <= Epochs.Length; e++) Save(resumed, e);
        Assert.Equal(3, resumed.ReadState().BestEpoch);
        Assert.Equal("epoch 3", File.ReadAllText(resumed.BestWeightsFile));
    }

    [Fact]
    public void Best_weights_stay_those_of_the_best_epoch_when_a_later_epoch_is_worse()
    {
        using var scratch = new ScratchFolder();
        var run = new RunFolder(scratch.PathOf("run"));
        Directory.CreateDirectory(run.Root);
        Save(run, 1);
        Save(run, 2);
        Assert.Equal("epoch 2", File.ReadAllText(run.WeightsFile));
        Assert.Equal("epoch 1", File.ReadAllText(run.BestWeightsFile));
        Assert.StartsWith(run.CheckpointDirectory, run.BestWeightsFile);
    }

    [Fact]
    public void A_run_written_before_best_weights_moved_into_the_checkpoint_keeps_its_best_weights()
    {
        using var scratch = new ScratchFolder();
        var run = new RunFolder(scratch.PathOf("run"));
        Directory.CreateDirectory(run.Root);
        Save(run, 1);
        // The old layout: best weights in the run's root, none in the checkpoint.
        File.Move(run.BestWeightsFile, Path.Combine(run.Root, "best.weights.bin"));
        Assert.Equal(Path.Combine(run.Root, "best.weights.bin"), run.BestWeightsFile);

        Save(run, 2);
        Assert.Equal("epoch 1", File.ReadAllText(run.BestWeightsFile));
        Assert.StartsWith(run.CheckpointDirectory, run.BestWeightsFile);
        Assert.False(File.Exists(Path.Combine(run.Root, "best.weights.bin")));
    }
}
