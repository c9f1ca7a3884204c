using ScanService.Training.Learning;
using Spectre.Console;

namespace ScanService.Training.Cli;

/// <summary>
/// Progress for long work: a live bar on a terminal, and a plain line every few seconds when the output goes
/// to a file (background training logs), since a redrawn bar is unreadable there.
/// </summary>
public static class ConsoleReporter
{
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static T WithProgress<T>(string title, Func<Action<double, string>, T> work) =>
        WithProgress(title, (report, _) => work(report));

    /// <summary>
    /// Runs <paramref name="work"/> with a progress callback and a line logger. On a terminal each logged line becomes
    /// a finished row of the live display (a line written beside a live display garbles it); in a log file it is a
    /// plain line.
    /// </summary>
    public static T WithProgress<T>(string title, Func<Action<double, string>, Action<string>, T> work)
    {
        if (!Interactive)
        {
            var last = DateTime.MinValue;
            return work((fraction, status) =>
            {
                if (DateTime.UtcNow - last < TimeSpan.FromSeconds(10) && fraction < 1) return;
                last = DateTime.UtcNow;
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {title} {fraction * 100,5:F1}% {status}");
            }, line => Console.WriteLine(line));
        }
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(title, maxValue: 1.0);
                result = work((fraction, status) =>
                {
                    task.Value = fraction;
                    task.Description = $"{title} {Markup.Escape(status)}";
                }, line =>
                {
                    // Finished rows go above the live one, in the order they were logged.
                    var row = context.AddTaskBefore(Markup.Escape(line), new ProgressTaskSettings { MaxValue = 1.0, AutoStart = false }, task);
                    row.Value = 1.0;
                    row.StopTask();
                });
                task.Value = 1.0;
            });
        return result;
    }

    public static string Describe(StepProgress p) =>
        $"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.Steps} loss {p.Loss:F3} acc {p.Accuracy:P1} {p.ImagesPerSecond:F0} img/s";

    public static string DescribeEpoch(EpochMetrics m) =>
        (
            $"epoch {m.Epoch}: loss {m.TrainLoss:F4} = deep ce {m.TrainDeepCrossEntropy:F3} + (1-α)·ce {m.TrainCrossEntropy:F3} + αT²·kd {m.TrainDistillation:F3} + λ·hint {m.TrainHint:F4}; " +
            $"train acc {m.TrainAccuracy:P2}, validation acc per exit {string.Join(" ", m.ValidationAccuracy.Select(a => a.ToString("P2")))}" +
            (m.ValidationEnsembleAccuracy is { } e ? $" ensemble {e:P2}" : "") +
            $", {m.Seconds:F0} s, {m.ImagesPerSecond:F0} img/s, lr {m.LearningRate:G3}, peak {m.PeakWorkingSetBytes / 1048576} MiB" +
            (m.StepSeconds is { } s ? $"; steps: {s.Describe()}" : ""));
}
