using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Grpc.Core;
using ScanService.Protocols.Scan.V1;
using ScanService.Api.Classifier;
using ScanService.Api.Metrics;
using ScanService.Api.Serving;

namespace ScanService.Api.Grpc;

/// <summary>
/// One ClassifyStream call. A reader takes items off the request stream while fewer than the bound are
/// unanswered, each item is classified on its own task (so an easy image overtakes a hard one), and one writer
/// sends the answers in the order they are ready: IServerStreamWriter allows one write at a time. Each item counts
/// as one request of front end <c>grpc_stream</c> in the request metrics, timed from its reading to its answer.
/// </summary>
internal sealed class ClassifyStreamCall(ImageClassifier classifier, ServingLimits limits, InFlightStreamItems inFlight, ScanMetrics metrics, int maxInFlight, ILogger logger)
{
    public async Task RunAsync(IAsyncStreamReader<ClassifyRequest> requests, IServerStreamWriter<ClassifyStreamResponse> responses, CancellationToken callCancelled)
    {
        // Fail the whole call up front rather than answer every item with the same error.
        classifier.RequireModel();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(callCancelled);
        using var slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        // Never holds more than the bound: an item's slot is only freed once its answer has been written.
        var answers = Channel.CreateUnbounded<ClassifyStreamResponse>(new UnboundedChannelOptions { SingleReader = true });
        var writing = WriteAnswersAsync(answers.Reader, responses, slots, stop);
        var items = new List<Task>();
        var completed = false;
        ExceptionDispatchInfo? readFailure = null;
        try
        {
            while (true)
            {
                // A slot is taken before reading and given back once the item's answer is written.
                await slots.WaitAsync(stop.Token);
                bool more;
                try
                {
                    more = await requests.MoveNext(stop.Token);
                }
                catch (RpcException e) when (!stop.IsCancellationRequested)
                {
                    // The transport cannot read the next item (a message past the largest gRPC accepts): the call must
                    // end, but every item read before it is answered first, as the contract says.
                    readFailure = ExceptionDispatchInfo.Capture(e);
                    break;
                }
                if (!more) break;
                var item = requests.Current;
                var read = Stopwatch.GetTimestamp();
                items.Add(Task.Run(() => AnswerAsync(item, read, answers.Writer, stop.Token), stop.Token));
                if (items.Count > 2 * maxInFlight) items.RemoveAll(t => t.IsCompleted);
            }
            await Task.WhenAll(items);
            completed = true;
        }
        catch (OperationCanceledException) when (!callCancelled.IsCancellationRequested)
        {
            // Only the writer cancels on its own: its failure, rethrown below by awaiting it, is the cause.
        }
        finally
        {
            if (!completed)
            {
                // The call is ending early (cancelled, or the writer failed): stop the work nobody will read.
                await stop.CancelAsync();
                await Quietly(Task.WhenAll(items));
            }
            answers.Writer.TryComplete();
            if (!completed) await Quietly(writing);
        }
        await writing;
        readFailure?.Throw();
    }

    private async Task AnswerAsync(ClassifyRequest item, long read, ChannelWriter<ClassifyStreamResponse> answers, CancellationToken cancellationToken)
    {
        inFlight.Enter();
        try
        {
            ClassifyStreamResponse answer;
            var outcome = RequestOutcome.Ok;
            try
            {
                if (string.IsNullOrEmpty(item.Id)) throw GrpcStatusMapping.InvalidArgument("id is required on every streamed item: answers are matched by it");
                answer = new ClassifyStreamResponse { Id = item.Id, Result = await classifier.ClassifyAsync(item, limits, cancellationToken) };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The call is over: nobody would read the answer.
                inFlight.Abandon();
                metrics.RecordRequest(FrontEnd.GrpcStream, RequestOutcome.ClientError, Stopwatch.GetElapsedTime(read));
                return;
            }
            catch (Exception e)
            {
                var status = GrpcStatusMapping.ForItem(e, cancellationToken);
                if (status.StatusCode == StatusCode.Internal) logger.LogError(e, "Streamed item {Id} failed", item.Id);
                answer = new ClassifyStreamResponse { Id = item.Id, Error = new ClassifyError { Code = (int)status.StatusCode, Message = status.Detail } };
                outcome = RequestOutcomes.FromGrpcStatus(status.StatusCode);
            }
            metrics.RecordRequest(FrontEnd.GrpcStream, outcome, Stopwatch.GetElapsedTime(read));
            answers.TryWrite(answer);
        }
        finally
        {
            inFlight.Exit();
        }
    }

    private static async Task WriteAnswersAsync(ChannelReader<ClassifyStreamResponse> answers, IServerStreamWriter<ClassifyStreamResponse> responses,
        SemaphoreSlim slots, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var answer in answers.ReadAllAsync(stop.Token))
            {
                await responses.WriteAsync(answer, stop.Token);
                slots.Release();
            }
        }
        catch
        {
            // Answers can no longer reach the client: stop reading and classifying.
            await stop.CancelAsync();
            throw;
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch
        {
            // Cleanup after the call already failed: the first failure is the one reported.
        }
    }
}
