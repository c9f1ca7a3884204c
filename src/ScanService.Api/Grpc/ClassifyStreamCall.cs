using System.Threading.Channels;
using Grpc.Core;
using ScanService.Api.Grpc.V1;
using ScanService.Api.Inference;

namespace ScanService.Api.Grpc;

/// <summary>
/// One ClassifyStream call. A reader takes items off the request stream while fewer than the bound are
/// unanswered, each item is classified on its own task (so an easy image overtakes a hard one), and one writer
/// sends the answers in the order they are ready: IServerStreamWriter allows one write at a time.
/// </summary>
internal sealed class ClassifyStreamCall(ImageClassifier classifier, InFlightStreamItems inFlight, int maxInFlight, ILogger logger)
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
        try
        {
            while (true)
            {
                // A slot is taken before reading and given back once the item's answer is written.
                await slots.WaitAsync(stop.Token);
                if (!await requests.MoveNext(stop.Token)) break;
                var item = requests.Current;
                items.Add(Task.Run(() => AnswerAsync(item, answers.Writer, stop.Token), stop.Token));
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
    }

    private async Task AnswerAsync(ClassifyRequest item, ChannelWriter<ClassifyStreamResponse> answers, CancellationToken cancellationToken)
    {
        inFlight.Enter();
        try
        {
            ClassifyStreamResponse answer;
            try
            {
                if (string.IsNullOrEmpty(item.Id)) throw GrpcStatusMapping.InvalidArgument("id is required on every streamed item: answers are matched by it");
                answer = new ClassifyStreamResponse { Id = item.Id, Result = await classifier.ClassifyAsync(item, cancellationToken) };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The call is over: nobody would read the answer.
                inFlight.Abandon();
                return;
            }
            catch (Exception e)
            {
                var status = GrpcStatusMapping.ForItem(e, cancellationToken);
                if (status.StatusCode == StatusCode.Internal) logger.LogError(e, "Streamed item {Id} failed", item.Id);
                answer = new ClassifyStreamResponse { Id = item.Id, Error = new ClassifyError { Code = (int)status.StatusCode, Message = status.Detail } };
            }
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
