using Cairn.Access;
using Cairn.Http;
using Cairn.Models;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Completions;

/// <summary>
/// Creates a chat completion, each stage once for every model source and both shapes (whole and streamed): parse →
/// resolve the model for the caller → reserve → answer → settle → store → write the body or <c>[DONE]</c>. Only
/// the answer comes from the model's <see cref="IChatSource"/>; a concern around an answer belongs here.
/// </summary>
internal sealed class CreatePipeline(
    ApiOptions options, CreateStages stages, ICompletionStore store, TimeProvider clock, ILogger<SseResponse> streamLogger)
{
    public async Task CreateAsync(HttpContext context, Exchange exchange)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        using var request = ChatCompletionRequestParser.Parse(body);
        var source = stages.Resolve(exchange.Caller, request.Model);
        var reservation = stages.Reserve(context.Response.Headers, exchange.Caller, request);
        var call = new ChatCall(request, Ids.Completion(clock), clock.GetUtcNow().ToUnixTimeSeconds());
        try
        {
            await (request.Stream ? StreamAsync(context, exchange, source, call, reservation) : CompleteAsync(context, exchange, source, call, reservation));
        }
        catch (ChatRefusedException refusal) when (!context.Response.HasStarted)
        {
            await refusal.WriteAsync(context.Response);
        }
    }

    private async Task CompleteAsync(HttpContext context, Exchange exchange, IChatSource source, ChatCall call, RateReservation reservation)
    {
        using var answer = await source.CompleteAsync(call, context.RequestAborted);
        await SettleAndStoreAsync(exchange, call, answer, reservation, beforeStoring: null);
        await JsonResponse.WriteBytesAsync(context.Response, answer, static (output, answer) => answer.WriteBody(output));
    }

    private async Task StreamAsync(HttpContext context, Exchange exchange, IChatSource source, ChatCall call, RateReservation reservation)
    {
        await using var stream = await source.StreamAsync(call, context.RequestAborted);
        await SseResponse.RunAsync(context, options.StreamSendTimeout, streamLogger, async sse =>
        {
            IChatAnswer answer;
            try
            {
                answer = await stream.WriteEventsAsync(sse);
            }
            catch (StreamFailedException e)
            {
                await sse.EndWithErrorAsync(e.Event);
                return;
            }
            catch (OpenAIException e)
            {
                await sse.EndWithErrorAsync(e.Error.ToUtf8());
                return;
            }
            using (answer)
            {
                // Stored only while the client is still there and reading.
                await SettleAndStoreAsync(exchange, call, answer, reservation, beforeStoring: sse.FlushAsync);
            }
            await sse.EndAsync();
        });
    }

    private async Task SettleAndStoreAsync(Exchange exchange, ChatCall call, IChatAnswer answer, RateReservation reservation, Func<ValueTask>? beforeStoring)
    {
        reservation.Settle(answer.CompletionTokens);
        if (!call.Request.Store)
        {
            return;
        }
        if (beforeStoring is not null)
        {
            await beforeStoring();
        }
        var stored = answer.ToStored(exchange.Caller.ProjectId, exchange.RequestId) with { LatencyMs = exchange.ElapsedMilliseconds(clock) };
        // Not cancelled with the request: once the answer exists, storing it completes even if the client left.
        await store.AddAsync(stored, CancellationToken.None);
    }
}
