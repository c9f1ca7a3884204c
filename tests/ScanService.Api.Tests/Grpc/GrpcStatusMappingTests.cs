using Grpc.Core;
using ScanService.Api.Grpc;
using ScanService.Api.Classifier;
using ScanService.Core.Preprocessing;

namespace ScanService.Api.Tests.Grpc;

public sealed class GrpcStatusMappingTests
{
    private static readonly DateTime NoDeadline = DateTime.MaxValue;

    [Fact]
    public void What_the_caller_can_fix_is_INVALID_ARGUMENT()
    {
        Assert.Equal(StatusCode.InvalidArgument, GrpcStatusMapping.ToStatus(new InvalidInferenceOptionsException("bad"), NoDeadline, default)?.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, GrpcStatusMapping.ToStatus(new ImageDecodeException(ImageDecodeError.Corrupt, "bad"), NoDeadline, default)?.StatusCode);
    }

    [Fact]
    public void No_model_is_UNAVAILABLE() =>
        Assert.Equal(StatusCode.Unavailable, GrpcStatusMapping.ToStatus(new ModelNotReadyException("loading"), NoDeadline, default)?.StatusCode);

    [Fact]
    public void Cancellation_of_the_call_is_CANCELLED_and_a_passed_deadline_DEADLINE_EXCEEDED()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Equal(StatusCode.Cancelled, GrpcStatusMapping.ToStatus(new OperationCanceledException(), NoDeadline, cancelled.Token)?.StatusCode);
        Assert.Equal(StatusCode.DeadlineExceeded, GrpcStatusMapping.ToStatus(new OperationCanceledException(), DateTime.UtcNow.AddSeconds(-1), cancelled.Token)?.StatusCode);
    }

    [Fact]
    public void A_fault_of_the_server_is_not_mapped_and_a_streamed_item_reports_it_as_INTERNAL()
    {
        var fault = new InvalidOperationException("internal detail");

        Assert.Null(GrpcStatusMapping.ToStatus(fault, NoDeadline, default));
        var item = GrpcStatusMapping.ForItem(fault, default);
        Assert.Equal(StatusCode.Internal, item.StatusCode);
        Assert.DoesNotContain("internal detail", item.Detail, StringComparison.Ordinal);
    }
}
