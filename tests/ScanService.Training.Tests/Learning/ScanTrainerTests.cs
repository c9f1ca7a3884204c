using ScanService.Training.Model;
using ScanService.Training.Learning;

namespace ScanService.Training.Tests.Learning;

public class ScanTrainerTests
{
    private static TrainOptions Narrow(int epochs) => new()
    {
        // Width 16: libtorch 2.10 on CPU can give NaN input gradients for 3x3 convolutions of 4 or 8 channels.
        Architecture = ScanArchitecture.ResNet18(width: 16),
        Epochs = epochs,
        BatchSize = 32,
        LearningRate = 0.05,
        Seed = 7,
        MaxStepsPerEpoch = 6,
    };

    [Fact]
    public void Loss_falls_when_a_narrow_network_trains_on_real_images()
    {
        using var scratch = new ScratchFolder();
        var train = SmallRealData.Train(192);
        var validation = SmallRealData.Validation(64);
        var trainer = new ScanTrainer(Narrow(epochs: 5), train, validation, SmallRealData.Normalization(train));
        var folder = new RunFolder(scratch.PathOf("run"));
        folder.Create(new RunRecord(trainer.Options, DataRecordFor(train, validation), "test"), overwrite: false);

        var result = trainer.Run(folder, resume: false);

        Assert.Equal(5, result.Metrics.Count);
        Assert.True(result.Metrics[^1].TrainLoss < result.Metrics[0].TrainLoss * 0.9,
            $"loss went from {result.Metrics[0].TrainLoss:F3} to {result.Metrics[^1].TrainLoss:F3}");
        Assert.All(result.Metrics, m => Assert.Equal(4, m.ValidationAccuracy.Count));
        Assert.True(File.Exists(folder.BestWeightsFile));
        Assert.Equal(5, folder.ReadState().CompletedEpochs);
        // Where the steps' time went is recorded (and read back from metrics.jsonl): the passes dominate, and the
        // phases add up to no more than the epoch.
        Assert.All(result.Metrics, m =>
        {
            var s = Assert.IsType<StepSeconds>(m.StepSeconds);
            Assert.True(s.Forward > 0 && s.Backward > 0 && s.Optimizer > 0 && s.Data > 0, s.Describe());
            Assert.True(s.Forward + s.Backward > s.Data, s.Describe());
            Assert.True(s.Total <= m.Seconds, $"{s.Total} s of steps in a {m.Seconds} s epoch");
        });
    }

    [Fact]
    public void A_resumed_run_ends_with_the_weights_of_an_uninterrupted_run()
    {
        using var scratch = new ScratchFolder();
        var train = SmallRealData.Train(96);
        var validation = SmallRealData.Validation(32);
        var normalization = SmallRealData.Normalization(train);
        var options = Narrow(epochs: 3) with { MaxStepsPerEpoch = 3 };

        var straight = new RunFolder(scratch.PathOf("straight"));
        straight.Create(new RunRecord(options, DataRecordFor(train, validation), "test"), overwrite: false);
        using var uninterrupted = new ScanTrainer(options, train, validation, normalization).Run(straight, resume: false).Network;

        var killed = new RunFolder(scratch.PathOf("killed"));
        killed.Create(new RunRecord(options, DataRecordFor(train, validation), "test"), overwrite: false);
        using (var cancel = new CancellationTokenSource())
        {
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new ScanTrainer(options, train, validation, normalization).Run(killed, resume: false, epochCompleted: m => { if (m.Epoch == 1) cancel.Cancel(); }, cancellationToken: cancel.Token));
        }
        Assert.Equal(1, killed.ReadState().CompletedEpochs);
        var resumed = new ScanTrainer(options, train, validation, normalization).Run(killed, resume: true);
        using var resumedNetwork = resumed.Network;

        Assert.Equal(3, resumed.State.CompletedEpochs);
        Assert.Equal(3, killed.ReadMetrics().Count);
        var expected = uninterrupted.state_dict();
        var actual = resumedNetwork.state_dict();
        Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
        foreach (var (name, value) in expected)
            Assert.True(value.allclose(actual[name], rtol: 0, atol: 1e-6), $"{name} differs after resuming");
    }

    [Fact]
    public void An_existing_run_folder_is_not_overwritten_unless_asked()
    {
        using var scratch = new ScratchFolder();
        var train = SmallRealData.Train(32);
        var record = new RunRecord(Narrow(1), DataRecordFor(train, train), "first");
        var folder = new RunFolder(scratch.PathOf("run"));
        folder.Create(record, overwrite: false);
        File.WriteAllText(folder.MetricsFile, "precious\n");

        var refused = Assert.Throws<InvalidOperationException>(() => folder.Create(record with { Command = "second" }, overwrite: false));
        Assert.Contains("--resume", refused.Message);
        Assert.Equal("precious\n", File.ReadAllText(folder.MetricsFile));
        Assert.Equal("first", folder.ReadRun().Command);

        folder.Create(record with { Command = "second" }, overwrite: true);
        Assert.Equal("second", folder.ReadRun().Command);
        Assert.False(File.Exists(folder.MetricsFile));
    }

    [Fact]
    public void Resuming_with_another_length_is_refused_and_leaves_the_run_as_it_was()
    {
        using var scratch = new ScratchFolder();
        var train = SmallRealData.Train(32);
        var folder = new RunFolder(scratch.PathOf("run"));
        folder.Create(new RunRecord(Narrow(3), DataRecordFor(train, train), "first"), overwrite: false);
        var before = File.ReadAllText(folder.RunFile);

        var command = new System.CommandLine.RootCommand { ScanService.Training.Cli.TrainCommand.Create() };
        var parse = command.Parse(["train", "--run", folder.Root, "--resume", "--epochs", "5"]);
        var refused = Assert.Throws<ArgumentException>(() => parse.Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false }));

        Assert.Contains("started for 3 epochs", refused.Message);
        Assert.Equal(before, File.ReadAllText(folder.RunFile));
    }

    [Fact]
    public void Data_of_the_wrong_shape_is_refused_before_training()
    {
        var train = SmallRealData.Train(32);
        var options = Narrow(1) with { Architecture = ScanArchitecture.ResNet18(4, channels: 3, height: 32, widthPx: 32) };
        using var scratch = new ScratchFolder();
        var error = Assert.Throws<ArgumentException>(() => new ScanTrainer(options, train, train, SmallRealData.Normalization(train)).Run(new RunFolder(scratch.Root), resume: false));
        Assert.Contains("1x28x28", error.Message);
    }

    internal static DataRecord DataRecordFor(ScanService.Training.Data.ImageDataset train, ScanService.Training.Data.ImageDataset validation) => new()
    {
        Dataset = "fashion-mnist",
        Source = new ScanService.Training.Cli.DataSource(),
        Labels = train.ClassNames,
        Mean = [0.286f],
        Std = [0.353f],
        TrainCount = train.Count,
        ValidationCount = validation.Count,
        ValidationSeed = 1,
    };
}
