using System.Diagnostics;

namespace ScanService.Api.Tests.Launcher;

/// <summary>The launcher's contract with the tools and tests that start the service and Prometheus through it.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task A_process_that_exits_before_it_is_ready_fails_the_wait_with_its_exit_code_and_output()
    {
        using var child = ChildProcess.Start(new ProcessStartInfo("sh", ["-c", "echo starting up; echo no config >&2; exit 3"]));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            child.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{LoopbackPort.Free()}/ready"), TimeSpan.FromSeconds(30)));

        Assert.Contains("exited with 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("starting up", error.Message, StringComparison.Ordinal);
        Assert.Contains("no config", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_sends_SIGTERM_and_returns_the_exit_code_the_process_chose()
    {
        using var child = ChildProcess.Start(new ProcessStartInfo("sh", ["-c", "trap 'echo stopping; exit 7' TERM; echo ready; while true; do sleep 0.1; done"]));
        for (var waited = 0; waited < 500 && !child.Output.Contains("ready", StringComparison.Ordinal); waited++) await Task.Delay(20);

        var code = await child.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(7, code);
        Assert.Contains("stopping", child.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_ports_for_REST_and_gRPC_are_different()
    {
        var (rest, grpc) = LoopbackPort.FreePair();
        Assert.NotEqual(rest, grpc);
        Assert.InRange(rest, 1, 65535);
    }
}
