using Cairn.Access;
using Cairn.Http;
using Cairn.Models;
using Cairn.Observability;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Completions;

/// <summary>
/// Creates a chat completion, each stage once for every model source and both shapes (whole and streamed): parse →
/// resolve the model for the caller → reserve → answer → settle → store → write the body or <c>[DONE]</c>. Only
/// the answer comes from the model's <see cref="IChatSource"/>; a concern around an answer belongs here (telemetry
/// is one: <see cref="GenAiTelemetry"/> follows each create from its model's resolution to its end).
/// </summary>
internal sealed class CreatePipeline(
    ApiOptions options, CreateStages stages, ICompletionStore store, GenAiTelemetry telemetry, TimeProvider clock, ILogger<SseResponse> streamLogger)
{
    public const string Api = "chat.completions";

    public async Task CreateAsync(HttpContext context, Exchange exchange)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        using var request = ChatCompletionRequestParser.Parse(body);
        var model = stages.Find(exchange.Caller, request.Model);
        using var report = telemetry.Start(context, exchange, Api, model, request.Model);
        try
        {
            report.Parameters(request.MaxCompletionTokens, request.Temperature, request.TopP, request.FrequencyPenalty, request.PresencePenalty,
                request.Seed, request.Stop, request.N);
            if (report.CapturesContent)
            {
                report.Content(GenAi.InputMessages, GenAiContent.Input(request.Messages));
            }
            var reservation = stages.Reserve(context.Response.Headers, exchange.Caller, request);
            var call = new ChatCall(request, Ids.Completion(clock), clock.GetUtcNow().ToUnixTimeSeconds());
            var turn = new Turn(exchange, call, reservation, report);
            await (request.Stream ? StreamAsync(context, model.Source, turn) : CompleteAsync(context, model.Source, turn));
        }
        catch (Exception e) when (report.Fail(e))
        {
            throw; // Never reached: the filter only records the failure.
        }
        catch (ChatRefusedException refusal) when (!context.Response.HasStarted)
        {
            await refusal.WriteAsync(context.Response);
        }
    }

    /// <summary>What one create carries from stage to stage.</summary>
    private sealed record Turn(Exchange Exchange, ChatCall Call, RateReservation Reservation, GenAiRequest Report);

    private async Task CompleteAsync(HttpContext context, IChatSource source, Turn turn)
    {
        using var answer = await source.CompleteAsync(turn.Call, context.RequestAborted);
        await SettleAndStoreAsync(turn, answer, beforeStoring: null);
        await JsonResponse.WriteBytesAsync(context.Response, answer, static (output, answer) => answer.WriteBody(output));
    }

    private async Task StreamAsync(HttpContext context, IChatSource source, Turn turn)
    {
        await using var stream = await source.StreamAsync(turn.Call, context.RequestAborted);
        await SseResponse.RunAsync(context, options.StreamSendTimeout, streamLogger, async sse =>
        {
            sse.FirstSent = turn.Report.FirstOutput;
            IChatAnswer answer;
            try
            {
                answer = await stream.WriteEventsAsync(sse);
            }
            catch (Exception e) when (turn.Report.Fail(e))
            {
                throw; // Never reached: the filter only records the failure.
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
                await SettleAndStoreAsync(turn, answer, beforeStoring: sse.FlushAsync);
            }
            await sse.EndAsync();
        });
    }

    private async Task SettleAndStoreAsync(Turn turn, IChatAnswer answer, Func<ValueTask>? beforeStoring)
    {
        var (exchange, call, reservation, report) = turn;
        reservation.Settle(answer.CompletionTokens);
        report.Answered(call.Id, answer.Summarize());
        if (report.CapturesContent)
        {
            report.Content(GenAi.OutputMessages, GenAiContent.Output(answer.ToCompletion(exchange.RequestId)));
        }
        if (!call.Request.Store)
        {
            return;
        }
        if (beforeStoring is not null)
        {
            await beforeStoring();
        }
        var stored = answer.ToStored(exchange.Caller.ProjectId, exchange.RequestId) with
        {
            LatencyMs = exchange.ElapsedMilliseconds(clock), TraceId = report.TraceId,
        };
        // Not cancelled with the request: once the answer exists, storing it completes even if the client left.
        using var span = CairnTelemetry.Source.StartActivity("store chat.completion");
        await store.AddAsync(stored, CancellationToken.None);
    }
}
