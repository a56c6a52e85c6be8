using System.Text.Json;
using Cairn.Access;
using Cairn.Completions;
using Cairn.Http;
using Cairn.Models;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using Cairn.Storage;

namespace Cairn.Responses;

/// <summary>
/// Creates a response (<c>POST /v1/responses</c>) on the same stages as a chat completion: parse → load the chain
/// (<c>previous_response_id</c>, one query) → translate to the chat request that answers it → resolve the model for
/// the caller → reserve → answer (any <see cref="IChatSource"/>) → settle → store the response (input and output
/// items, through the group commit, before the client is told it is done) → write the response or its events. The
/// chat call that serves a response is never stored as a chat completion.
/// </summary>
internal sealed class ResponsePipeline(
    ApiOptions options, CreateStages stages, IResponseStore store, TimeProvider clock, ILogger<SseResponse> streamLogger)
{
    public async Task CreateAsync(HttpContext context, Exchange exchange)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        using var request = ResponseRequestParser.Parse(body);
        if (request.Background)
        {
            throw OpenAIException.InvalidRequest("background",
                "Cairn does not run responses in the background: send 'background': false (or leave it out) and the response is answered in the request.",
                "unsupported_parameter");
        }
        var caller = exchange.Caller;
        var source = stages.Resolve(caller, request.Model);
        var id = Ids.Response(clock);
        var chain = await ContextAsync(caller.ProjectId, request.PreviousResponseId, context.RequestAborted);
        var input = ResponseItems.Store(request, id);
        using var chat = ChatRequest(request, chain, input);
        var reservation = stages.Reserve(context.Response.Headers, caller, chat);
        var createdAt = clock.GetUtcNow().ToUnixTimeSeconds();
        var call = new ChatCall(chat, Ids.Completion(clock), createdAt);
        var turn = new Turn(exchange, request, ResponseObject.Start(request, id, createdAt), Ids.Item("msg", id), input, reservation);
        try
        {
            await (request.Stream ? StreamAsync(context, source, call, turn) : CompleteAsync(context, source, call, turn));
        }
        catch (ChatRefusedException refusal) when (!context.Response.HasStarted)
        {
            await refusal.WriteAsync(context.Response);
        }
        catch (OpenAIException e) when (!context.Response.HasStarted && e.Error.Param is { } param && ResponseParams.TryGetValue(param, out var named))
        {
            // A backend refuses the chat request's parameter; the client sent it under its Responses name.
            throw new OpenAIException(e.Error with { Param = named, Message = e.Error.Message.Replace($"'{param}'", $"'{named}'", StringComparison.Ordinal) });
        }
    }

    /// <summary>Chat parameters a backend may refuse, by the Responses parameter they were made from.</summary>
    private static readonly Dictionary<string, string> ResponseParams = new(StringComparer.Ordinal)
    {
        ["response_format"] = "text.format",
        ["max_completion_tokens"] = "max_output_tokens",
        ["logprobs"] = "top_logprobs",
        ["reasoning_effort"] = "reasoning.effort",
        ["messages"] = "input",
        ["user"] = "user",
        ["tools"] = "tools",
        ["tool_choice"] = "tool_choice",
        ["parallel_tool_calls"] = "parallel_tool_calls",
        ["temperature"] = "temperature",
        ["top_p"] = "top_p",
    };

    /// <summary>What one create carries from stage to stage.</summary>
    private sealed record Turn(
        Exchange Exchange, ResponseRequest Request, ResponseObject Response, string MessageId, IReadOnlyList<ResponseItem> Input, RateReservation Reservation);

    /// <summary>The chain this response continues, oldest item first; empty for a first turn.</summary>
    private async Task<IReadOnlyList<ReadOnlyMemory<byte>>> ContextAsync(long projectId, string? previousId, CancellationToken cancellationToken)
    {
        if (previousId is null)
        {
            return [];
        }
        var items = await store.GetContextAsync(projectId, previousId, cancellationToken)
            ?? throw new OpenAIException(OpenAIError.PreviousResponseNotFound(previousId));
        return [.. items.Select(item => (ReadOnlyMemory<byte>)item.Body)];
    }

    /// <summary>
    /// The chat request that answers the response, checked by the chat parser like any other: what the translation
    /// cannot express was refused already, so a refusal here is about the input as a whole (say, nothing to answer).
    /// </summary>
    private static ChatCompletionRequest ChatRequest(ResponseRequest request, IReadOnlyList<ReadOnlyMemory<byte>> chain, IReadOnlyList<ResponseItem> input)
    {
        var body = ResponseChat.ToChatBody(request, chain, input, request.Stream);
        try
        {
            return ChatCompletionRequestParser.ParseWritten(body);
        }
        catch (OpenAIException e) when (e.Error.Param?.StartsWith("messages", StringComparison.Ordinal) == true)
        {
            throw OpenAIException.InvalidRequest("input", $"Invalid 'input': {e.Error.Message}", e.Error.Code);
        }
    }

    private async Task CompleteAsync(HttpContext context, IChatSource source, ChatCall call, Turn turn)
    {
        using var answer = await source.CompleteAsync(call, context.RequestAborted);
        await FinishAsync(turn, answer, beforeStoring: null);
        await JsonResponse.WriteBytesAsync(context.Response, turn.Response, static (output, response) =>
        {
            using var writer = new Utf8JsonWriter(output, JsonWriting.Options);
            response.Write(writer);
        });
    }

    private async Task StreamAsync(HttpContext context, IChatSource source, ChatCall call, Turn turn)
    {
        await using var stream = await source.StreamAsync(call, context.RequestAborted);
        ResponseEvents? events = null;
        try
        {
            await StreamEventsAsync();
        }
        finally
        {
            events?.Dispose();
        }

        Task StreamEventsAsync() => SseResponse.RunAsync(context, options.StreamSendTimeout, streamLogger, async sse =>
        {
            events = new ResponseEvents(sse.Pipe, turn.Response, turn.MessageId);
            events.Start();
            await sse.FlushAsync();
            IChatAnswer answer;
            try
            {
                answer = await stream.ReadTextAsync(sse, events.Text);
            }
            catch (StreamFailedException e)
            {
                await FailAsync(sse, events, turn.Response, ErrorOf(e.Event));
                return;
            }
            catch (OpenAIException e)
            {
                await FailAsync(sse, events, turn.Response, e.Error);
                return;
            }
            using (answer)
            {
                // Stored only while the client is still there and reading; response.completed is the acknowledgement.
                await FinishAsync(turn, answer, beforeStoring: sse.FlushAsync);
            }
            events.Finish();
            await sse.CloseAsync();
        }, failure: _ =>
        {
            // Cairn's own fault after the headers: the client learns of it as a failed response.
            if (events is not null)
            {
                turn.Response.Fail("server_error", OpenAIError.Internal().Message);
                events.Failed();
            }
        });
    }

    private static async Task FailAsync(SseResponse sse, ResponseEvents events, ResponseObject response, OpenAIError error)
    {
        response.Fail(error.Code ?? "server_error", error.Message);
        events.Failed();
        await sse.CloseAsync();
    }

    /// <summary>The message and code of a failed stream's error event (Cairn's envelope or an upstream's).</summary>
    private static OpenAIError ErrorOf(byte[] errorEvent)
    {
        try
        {
            using var document = JsonDocument.Parse(errorEvent);
            if (JsonCheck.Get(document.RootElement, "error") is { ValueKind: JsonValueKind.Object } error)
            {
                var message = JsonCheck.Get(error, "message") is { ValueKind: JsonValueKind.String } m ? m.GetString()! : "The model's answer failed.";
                var code = JsonCheck.Get(error, "code") is { ValueKind: JsonValueKind.String } c ? c.GetString() : null;
                return new OpenAIError(StatusCodes.Status502BadGateway, message, "server_error", null, code);
            }
        }
        catch (JsonException)
        {
        }
        return new OpenAIError(StatusCodes.Status502BadGateway, "The model's answer failed.", "server_error", null, null);
    }

    /// <summary>Settles the reservation, completes the response from the answer and stores it (unless <c>store:false</c>).</summary>
    private async Task FinishAsync(Turn turn, IChatAnswer answer, Func<ValueTask>? beforeStoring)
    {
        turn.Reservation.Settle(answer.CompletionTokens);
        var response = turn.Response;
        var outcome = ResponseOutcome.FromCompletion(answer.ToCompletion(turn.Exchange.RequestId), response.Id, turn.MessageId);
        response.Complete(outcome, clock.GetUtcNow().ToUnixTimeSeconds());
        if (!turn.Request.Store)
        {
            return;
        }
        if (beforeStoring is not null)
        {
            await beforeStoring();
        }
        var stored = new StoredResponse(
            turn.Exchange.Caller.ProjectId, response.Id, turn.Request.Model, response.CreatedAt, turn.Request.PreviousResponseId, response.ToUtf8(),
            [.. turn.Input.Select(Stored)], [.. outcome.Output.Select(Stored)], turn.Request.Metadata)
        {
            RequestId = turn.Exchange.RequestId,
            LatencyMs = turn.Exchange.ElapsedMilliseconds(clock),
            Status = response.Status,
            InputTokens = outcome.Usage.InputTokens,
            OutputTokens = outcome.Usage.OutputTokens,
        };
        // Not cancelled with the request: once the answer exists, storing it completes even if the client left.
        await store.AddAsync(stored, CancellationToken.None);
    }

    private static StoredItem Stored(ResponseItem item) => new(item.Id, item.Json);
}
