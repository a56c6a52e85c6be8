using System.Buffers;
using System.IO.Pipelines;

namespace Cairn.OpenAI;

/// <summary>
/// A chat completion stream being sent, for the local backends and the upstream relay alike. Writes go to
/// <see cref="Pipe"/>; flushes are awaited, so a slow reader slows the producer, and each has
/// <c>Api:StreamSendTimeoutSeconds</c> to finish: a client that stops reading for that long loses its connection,
/// and <see cref="Token"/> (the producer's token) is cancelled, freeing the upstream connection or model sequence.
/// </summary>
internal sealed partial class SseResponse : IDisposable
{
    /// <summary>Unflushed bytes that make a flush due even while the producer has more at hand.</summary>
    public const int FlushThreshold = 32 * 1024;

    private readonly HttpContext context;
    private readonly TimeSpan sendTimeout;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopped;
    private bool gaveUp;
    private bool ended;

    private SseResponse(HttpContext context, TimeSpan sendTimeout, ILogger logger)
    {
        this.context = context;
        this.sendTimeout = sendTimeout;
        this.logger = logger;
        stopped = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        Pipe = context.Response.BodyWriter;
    }

    /// <summary>
    /// Answers with a stream (200, <c>text/event-stream</c>, no buffering) that <paramref name="produce"/> writes. A
    /// client that leaves or stops reading ends it quietly: nobody is left to answer, and nothing is stored. A failure
    /// after the headers ends it with <paramref name="failure"/>'s event when given (the Responses API's
    /// <c>response.failed</c>), else with chat's error event and <c>[DONE]</c>.
    /// </summary>
    public static async Task RunAsync(
        HttpContext context, TimeSpan sendTimeout, ILogger logger, Func<SseResponse, Task> produce, Action<IBufferWriter<byte>>? failure = null)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        using var sse = new SseResponse(context, sendTimeout, logger);
        try
        {
            await produce(sse);
        }
        catch (OperationCanceledException) when (sse.Token.IsCancellationRequested)
        {
        }
        catch (Exception) when (!sse.ended)
        {
            // A failure after the headers (the backend, the store): the client learns of it in the stream, ended as
            // every stream ends, and the log gets the exception.
            try
            {
                if (failure is null)
                {
                    await sse.EndWithErrorAsync(OpenAIError.Internal().ToUtf8());
                }
                else
                {
                    failure(sse.Pipe);
                    await sse.CloseAsync();
                }
            }
            catch (OperationCanceledException)
            {
                // The client is gone or not reading; the exception below is what matters.
            }
            throw;
        }
    }

    public PipeWriter Pipe { get; }

    /// <summary>Called once, at the first flush that sends bytes: a stream's first output (its time to first token).</summary>
    public Action? FirstSent { get; set; }

    /// <summary>Cancelled when the client has left or stopped reading: the producer's signal to stop and free what it holds.</summary>
    public CancellationToken Token => stopped.Token;

    /// <summary>Flushes when the unflushed bytes pass <see cref="FlushThreshold"/>, so a stream is never built whole in memory.</summary>
    public ValueTask FlushIfFullAsync() =>
        !Pipe.CanGetUnflushedBytes || Pipe.UnflushedBytes >= FlushThreshold ? FlushAsync() : ValueTask.CompletedTask;

    /// <summary>
    /// Sends what is written. A flush the client does not take within the send timeout aborts the connection and
    /// throws <see cref="OperationCanceledException"/>, with <see cref="Token"/> cancelled.
    /// </summary>
    public async ValueTask FlushAsync()
    {
        if (FirstSent is { } first && (!Pipe.CanGetUnflushedBytes || Pipe.UnflushedBytes > 0))
        {
            FirstSent = null;
            first();
        }
        var flush = Pipe.FlushAsync(stopped.Token);
        if (flush.IsCompletedSuccessfully)
        {
            return;
        }
        // Only a flush that waits for the client arms the timer, so a reading client costs no timer per event.
        stopped.CancelAfter(sendTimeout);
        try
        {
            await flush;
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            GiveUp();
            throw;
        }
        if (stopped.IsCancellationRequested)
        {
            // The timer fired as the flush finished: the client was too slow all the same.
            GiveUp();
            throw new OperationCanceledException(stopped.Token);
        }
        stopped.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends a stream that failed after it began: the error as an event in OpenAI's envelope, then <c>[DONE]</c>.</summary>
    public async Task EndWithErrorAsync(byte[] error)
    {
        ended = true;
        Pipe.Write(Sse.DataPrefix);
        Pipe.Write(error);
        Pipe.Write(Sse.EventEnd);
        await EndAsync();
    }

    /// <summary>Sends the rest of a stream that ends without <c>[DONE]</c> (the Responses API's).</summary>
    public async Task CloseAsync()
    {
        ended = true;
        await FlushAsync();
    }

    /// <summary>Writes <c>data: [DONE]</c> and sends the rest.</summary>
    public async Task EndAsync()
    {
        ended = true;
        Pipe.Write(Sse.Done);
        await FlushAsync();
    }

    private void GiveUp()
    {
        if (gaveUp)
        {
            return;
        }
        gaveUp = true;
        LogSendTimeout(logger, sendTimeout.TotalSeconds, context.TraceIdentifier);
        stopped.Cancel();
        context.Abort();
    }

    public void Dispose() => stopped.Dispose();

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information,
        Message = "A stream's client took nothing for {Seconds} s; its connection is closed and its answer is not stored (request {RequestId}).")]
    private static partial void LogSendTimeout(ILogger logger, double seconds, string requestId);
}
