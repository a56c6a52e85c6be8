using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Cairn.Access;
using Cairn.Completions;
using Cairn.Http;
using Cairn.Models;
using Cairn.Observability;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using Cairn.Storage;

namespace Cairn.Responses;

/// <summary>
/// Creates a response (<c>POST /v1/responses</c>) on the same stages as a chat completion: parse → resolve the model
/// for the caller → load the chain (<c>previous_response_id</c>, one query) → translate to the chat request that
/// answers it → reserve → answer (any <see cref="IChatSource"/>) → settle → store the response (input and output
/// items, through the group commit, before the client is told it is done) → write the response or its events. The
/// chat call that serves a response is never stored as a chat completion. A model whose upstream speaks the Responses
/// API itself (an <see cref="IResponseSource"/>) skips the translation: the request is relayed with the chain in its
/// input, and the upstream's response (with Cairn's id) is what is stored and written.
/// </summary>
internal sealed class ResponsePipeline(
    ApiOptions options, CreateStages stages, IResponseStore store, TokenCounter tokens, GenAiTelemetry telemetry, TimeProvider clock,
    ILogger<SseResponse> streamLogger)
{
    public const string Api = "responses";

    /// <summary>
    /// <c>POST /v1/responses/input_tokens</c>: the input a create with this body would send the model (its chain, its
    /// instructions, tools and input, as the chat request that would answer it), counted with OpenAI's encoding for the
    /// model's family; nothing is answered or stored. Checked as a create is.
    /// </summary>
    public async Task CountInputTokensAsync(HttpContext context, Exchange exchange)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        using var request = ResponseRequestParser.Parse(body);
        var caller = exchange.Caller;
        stages.Find(caller, request.Model);
        var chainRead = await ContextAsync(caller.ProjectId, request.PreviousResponseId, context.RequestAborted);
        var input = ResponseItems.Store(request, Ids.Response(clock));
        using var chat = ChatRequest(request, [.. chainRead.Select(item => (ReadOnlyMemory<byte>)item.Body)], input);
        var count = tokens.ForModel(request.Model).CountPrompt(chat.Messages, chat.Tools?.GetRawText(), context.RequestAborted);
        await JsonResponse.WriteAsync(context.Response, count, static (writer, count) =>
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "response.input_tokens"u8);
            writer.WriteNumber("input_tokens"u8, count);
            writer.WriteEndObject();
        });
    }

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
        var model = stages.Find(caller, request.Model);
        using var report = telemetry.Start(context, exchange, Api, model, request.Model);
        try
        {
            await CreateAsync(context, exchange, request, model, report);
        }
        catch (Exception e) when (report.Fail(e))
        {
            throw; // Never reached: the filter only records the failure.
        }
    }

    private async Task CreateAsync(HttpContext context, Exchange exchange, ResponseRequest request, ModelCard model, GenAiRequest report)
    {
        var caller = exchange.Caller;
        report.Parameters(request.MaxOutputTokens, request.Temperature, request.TopP);
        if (report.CapturesContent && request.Instructions is { } instructions)
        {
            report.Content(GenAi.SystemInstructions, GenAiContent.Instructions(instructions));
        }
        var id = Ids.Response(clock);
        var chainRead = await ContextAsync(caller.ProjectId, request.PreviousResponseId, context.RequestAborted);
        IReadOnlyList<ReadOnlyMemory<byte>> chain = [.. chainRead.Select(item => (ReadOnlyMemory<byte>)item.Body)];
        var input = ResponseItems.Store(request, id);
        var createdAt = clock.GetUtcNow().ToUnixTimeSeconds();
        var response = ResponseObject.Start(request, id, createdAt);
        var messageId = Ids.Item("msg", id);
        try
        {
            if (model.Responses is { } native)
            {
                // The upstream speaks the Responses API itself: it is sent the request, the chain in its input.
                var relayed = new ResponseCall(request, id, chain);
                if (report.CapturesContent)
                {
                    report.Content(GenAi.InputMessages, RelayedInput(relayed));
                }
                var reservation = stages.Reserve(context.Response.Headers, caller, request.MaxOutputTokens ?? 0, () => EstimatePrompt(relayed));
                var turn = new Turn(exchange, request, response, messageId, input, chainRead, reservation, report);
                await (request.Stream ? RelayStreamAsync(context, native, relayed, turn) : RelayAsync(context, native, relayed, turn));
            }
            else
            {
                using var chat = ChatRequest(request, chain, input);
                if (report.CapturesContent)
                {
                    report.Content(GenAi.InputMessages, GenAiContent.Input(chat.Messages));
                }
                var reservation = stages.Reserve(context.Response.Headers, caller, chat);
                var call = new ChatCall(chat, Ids.Completion(clock), createdAt);
                var turn = new Turn(exchange, request, response, messageId, input, chainRead, reservation, report);
                await (request.Stream ? StreamAsync(context, model.Source, call, turn) : CompleteAsync(context, model.Source, call, turn));
            }
        }
        catch (ChatRefusedException refusal) when (!context.Response.HasStarted)
        {
            report.Fail(refusal);
            await refusal.WriteAsync(context.Response);
        }
        catch (OpenAIException e) when (!context.Response.HasStarted && e.Error.Param is { } param && ResponseParams.TryGetValue(param, out var named))
        {
            // A backend refuses the chat request's parameter; the client sent it under its Responses name.
            throw new OpenAIException(e.Error with { Param = named, Message = e.Error.Message.Replace($"'{param}'", $"'{named}'", StringComparison.Ordinal) });
        }
    }

    /// <summary>What a native upstream is sent as input, for content capture: the chain's items, then the turn's input.</summary>
    private static string RelayedInput(ResponseCall call)
    {
        var chain = call.Context.Select(item => JsonDocument.Parse(item)).ToList();
        try
        {
            var input = call.Request.Root.GetProperty("input");
            IEnumerable<JsonElement> turn = input.ValueKind == JsonValueKind.Array ? input.EnumerateArray() : [input];
            return GenAiContent.Input(chain.Select(document => document.RootElement).Concat(turn));
        }
        finally
        {
            chain.ForEach(document => document.Dispose());
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
        Exchange Exchange, ResponseRequest Request, ResponseObject Response, string MessageId, IReadOnlyList<ResponseItem> Input,
        IReadOnlyList<StoredItem> Chain, RateReservation Reservation, GenAiRequest Report);

    /// <summary>The chain this response continues, oldest item first; empty for a first turn.</summary>
    private async Task<IReadOnlyList<StoredItem>> ContextAsync(long projectId, string? previousId, CancellationToken cancellationToken)
    {
        if (previousId is null)
        {
            return [];
        }
        return await store.GetContextAsync(projectId, previousId, cancellationToken)
            ?? throw new OpenAIException(OpenAIError.PreviousResponseNotFound(previousId));
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
        // The response is serialized once: the bytes stored are the body sent.
        await JsonResponse.WriteAsync(context.Response, await FinishAsync(turn, answer, beforeStoring: null));
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
            sse.FirstSent = turn.Report.FirstOutput;
            IChatAnswer answer;
            try
            {
                answer = await stream.ReadTextAsync(sse, events.Text);
            }
            catch (Exception e) when (turn.Report.Fail(e))
            {
                throw; // Never reached: the filter only records the failure.
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
            if (events is not null && turn.Response.Status != ResponseObject.Failed)
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

    /// <summary>The prompt of a relayed request, estimated from its bytes: the chain's items and the request as sent.</summary>
    private static int EstimatePrompt(ResponseCall call) =>
        call.Context.Sum(item => TokenCounter.Estimate(item.Span)) + TokenCounter.Estimate(JsonMarshal.GetRawUtf8Value(call.Request.Root));

    private async Task RelayAsync(HttpContext context, IResponseSource source, ResponseCall call, Turn turn)
    {
        var finished = await source.CompleteAsync(call, context.RequestAborted);
        await FinishAsync(turn, finished, beforeStoring: null);
        await JsonResponse.WriteAsync(context.Response, finished.Body);
    }

    private async Task RelayStreamAsync(HttpContext context, IResponseSource source, ResponseCall call, Turn turn)
    {
        await using var stream = await source.StreamAsync(call, context.RequestAborted);
        await SseResponse.RunAsync(context, options.StreamSendTimeout, streamLogger, async sse =>
        {
            FinishedResponse finished;
            byte[] lastEvent;
            try
            {
                (finished, lastEvent) = await stream.RelayAsync(sse);
            }
            catch (Exception e) when (turn.Report.Fail(e))
            {
                throw; // Never reached: the filter only records the failure.
            }
            catch (StreamFailedException e)
            {
                await FailAsync(sse, stream.NextSequence, turn, ErrorOf(e.Event));
                return;
            }
            catch (OpenAIException e)
            {
                await FailAsync(sse, stream.NextSequence, turn, e.Error);
                return;
            }
            // Stored only while the client is still there and reading; the upstream's last event is the acknowledgement.
            await FinishAsync(turn, finished, beforeStoring: sse.FlushAsync);
            sse.Pipe.Write(lastEvent);
            await sse.CloseAsync();
        }, failure: output =>
        {
            // Cairn's own fault after the headers: the client learns of it as a failed response.
            if (turn.Response.Status != ResponseObject.Failed)
            {
                turn.Response.Fail("server_error", OpenAIError.Internal().Message);
                using var events = new ResponseEvents(output, turn.Response, turn.MessageId, stream.NextSequence);
                events.Failed();
            }
        });
    }

    /// <summary>Ends a relayed stream that failed before its last event with Cairn's <c>response.failed</c>, numbered on from the upstream's events.</summary>
    private static async Task FailAsync(SseResponse sse, int sequence, Turn turn, OpenAIError error)
    {
        using var events = new ResponseEvents(sse.Pipe, turn.Response, turn.MessageId, sequence);
        await FailAsync(sse, events, turn.Response, error);
    }

    /// <summary>
    /// Settles the reservation, completes the response from the answer and stores it (unless <c>store:false</c>);
    /// returns the completed response's bytes.
    /// </summary>
    private async Task<byte[]> FinishAsync(Turn turn, IChatAnswer answer, Func<ValueTask>? beforeStoring)
    {
        turn.Reservation.Settle(answer.CompletionTokens);
        var response = turn.Response;
        var completion = answer.ToCompletion(turn.Exchange.RequestId);
        turn.Report.Answered(response.Id, answer.Summarize());
        if (turn.Report.CapturesContent)
        {
            turn.Report.Content(GenAi.OutputMessages, GenAiContent.Output(completion));
        }
        var outcome = ResponseOutcome.FromCompletion(completion, response.Id, turn.MessageId);
        response.Complete(outcome, clock.GetUtcNow().ToUnixTimeSeconds());
        var body = response.ToUtf8();
        await StoreAsync(turn, body, response.Status, outcome.Output, outcome.Usage, beforeStoring);
        return body;
    }

    /// <summary>
    /// Settles the reservation and stores the upstream's response (unless <c>store:false</c>, or it failed: a failed
    /// response is relayed, not kept, as Cairn's own failures are not).
    /// </summary>
    private async Task FinishAsync(Turn turn, FinishedResponse finished, Func<ValueTask>? beforeStoring)
    {
        turn.Reservation.Settle(finished.Usage.OutputTokens);
        var usage = finished.Usage;
        turn.Report.Answered(turn.Response.Id, new AnswerSummary(finished.Model ?? turn.Request.Model, [finished.Status], usage.InputTokens, usage.OutputTokens));
        if (!finished.Answered)
        {
            turn.Report.Fail(finished.Status);
        }
        if (turn.Report.CapturesContent)
        {
            turn.Report.Content(GenAi.OutputMessages, GenAiContent.Output(finished.Output));
        }
        if (finished.Answered)
        {
            await StoreAsync(turn, finished.Body, finished.Status, finished.Output, finished.Usage, beforeStoring);
        }
    }

    /// <summary>Stores the response's body, this turn's input and the output items, unless the request said <c>store:false</c>.</summary>
    private async Task StoreAsync(
        Turn turn, byte[] body, string status, IReadOnlyList<ResponseItem> output, ResponseUsage usage, Func<ValueTask>? beforeStoring)
    {
        if (!turn.Request.Store)
        {
            return;
        }
        if (beforeStoring is not null)
        {
            await beforeStoring();
        }
        var response = turn.Response;
        var stored = new StoredResponse(
            turn.Exchange.Caller.ProjectId, response.Id, turn.Request.Model, response.CreatedAt, turn.Request.PreviousResponseId, body,
            [.. turn.Input.Select(Stored)], [.. output.Select(Stored)], turn.Request.Metadata)
        {
            RequestId = turn.Exchange.RequestId,
            LatencyMs = turn.Exchange.ElapsedMilliseconds(clock),
            Status = status,
            InputTokens = usage.InputTokens,
            OutputTokens = usage.OutputTokens,
            ChainRead = turn.Chain,
            TraceId = turn.Report.TraceId,
        };
        // Not cancelled with the request: once the answer exists, storing it completes even if the client left.
        using var span = CairnTelemetry.Source.StartActivity("store response");
        await store.AddAsync(stored, CancellationToken.None);
    }

    private static StoredItem Stored(ResponseItem item) => new(item.Id, item.Json);
}
