using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Cairn.Access;
using Cairn.Backends;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Upstream;

/// <summary>
/// A chat completion answered by an upstream: the upstream's answer reaches the client as it was sent, with
/// Cairn's completion id (the one its stored-completions API serves) and creation time in place of the
/// upstream's; streams are relayed event by event while the stored completion is assembled beside them.
/// </summary>
internal static partial class ProxyEndpoint
{
    public static async Task HandleAsync(HttpContext context, ModelRoute route, ChatCompletionRequest request, string id, long created)
    {
        var services = context.RequestServices;
        var upstream = services.GetRequiredService<UpstreamClient>();
        var answer = await upstream.SendAsync(route, request, context.RequestAborted);
        if (answer.Response is not { } response)
        {
            await answer.WriteErrorAsync(context.Response);
            return;
        }
        using (response)
        {
            var deployment = answer.Deployment!;
            var exchange = new Exchange(
                context, request, id, created, deployment,
                new ProxyRecord(deployment.Provider, deployment.Name, answer.UpstreamModel!),
                services.GetRequiredService<ICompletionStore>(),
                services.GetRequiredService<TokenCounter>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProxyEndpoint)));
            if (request.Stream)
            {
                await RelayStreamAsync(exchange, response);
            }
            else
            {
                await RelayWholeAsync(exchange, response);
            }
        }
    }

    private sealed record Exchange(
        HttpContext Context, ChatCompletionRequest Request, string Id, long Created, UpstreamDeployment Deployment, ProxyRecord Origin,
        ICompletionStore Store, TokenCounter Tokens, ILogger Logger)
    {
        public CancellationToken Aborted => Context.RequestAborted;

        /// <summary>Stores the completion (once it is whole) before the client is told it is done.</summary>
        public Task StoreAsync(JsonElement completion, bool hasUsage)
        {
            ChatUsage? counted = null;
            var origin = Origin;
            if (!hasUsage)
            {
                var counter = Tokens.ForModel(Origin.UpstreamModel);
                // Counted even if the client left (the answer is stored), but not past the server's shutdown.
                counted = CountUsage(counter, Request, completion,
                    Context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
                origin = Origin with { Tokenizer = counter.Encoding };
            }
            var stored = StoredCompletionWriter.BuildProxied(
                Caller.Get(Context).ProjectId, Id, RequestIds.Get(Context), Created, Request, completion, origin, counted)
                with { LatencyMs = RequestIds.ElapsedMilliseconds(Context) };
            // Not cancelled with the request: once the answer exists, storing it completes even if the client left.
            return Store.AddAsync(stored, CancellationToken.None);
        }
    }

    private static async Task RelayWholeAsync(Exchange exchange, HttpResponseMessage response)
    {
        // Read (at most MaxAnswerBytes) inside the retry pipeline, by UpstreamBuffering.
        var bytes = response.Content is BufferedAnswer buffered ? buffered.Bytes : await response.Content.ReadAsByteArrayAsync(exchange.Aborted);
        if (bytes.Span.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            LogMalformed(exchange.Logger, exchange.Deployment.Name, "an answer that is not JSON");
            await UpstreamErrors.Malformed("an answer that is not JSON").WriteAsync(exchange.Context.Response);
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || JsonCheck.Get(root, "choices") is not { ValueKind: JsonValueKind.Array })
            {
                LogMalformed(exchange.Logger, exchange.Deployment.Name, "an answer without choices");
                await UpstreamErrors.Malformed("an answer without choices").WriteAsync(exchange.Context.Response);
                return;
            }
            if (!JsonText.IsValid(bytes.Span))
            {
                LogMalformed(exchange.Logger, exchange.Deployment.Name, InvalidText);
                await UpstreamErrors.Malformed(InvalidText).WriteAsync(exchange.Context.Response);
                return;
            }
            RateLimits.Settle(exchange.Context, CompletionTokens(root));
            if (exchange.Request.Store)
            {
                await exchange.StoreAsync(root, JsonCheck.Get(root, "usage") is { ValueKind: JsonValueKind.Object });
            }
            await JsonResponse.WriteBytesAsync(exchange.Context.Response, (bytes, exchange.Id, exchange.Created),
                static (output, s) => JsonSplice.WriteRewritten(output, s.bytes.Span, s.Id, s.Created, dropUsage: false));
        }
    }

    private enum Step
    {
        Next,
        Done,
        Ended,
    }

    private static Task RelayStreamAsync(Exchange exchange, HttpResponseMessage upstream) =>
        SseResponse.RunAsync(exchange.Context, exchange.Context.RequestServices.GetRequiredService<ApiOptions>().StreamSendTimeout, exchange.Logger,
            sse => RelayEventsAsync(exchange, upstream, sse));

    private static async Task RelayEventsAsync(Exchange exchange, HttpResponseMessage upstream, SseResponse sse)
    {
        var context = exchange.Context;
        // Cancelled when the client leaves or stops reading; the caller then disposes the upstream response, which
        // closes its connection.
        var stopped = sse.Token;
        var pipe = sse.Pipe;
        var hideUsage = UpstreamBody.AddsUsage(exchange.Request, exchange.Deployment.Options);
        var assembler = new StreamAssembler();
        var wrote = false;

        // Ends the stream with Cairn's error about what the upstream sent; nothing is stored.
        async ValueTask<Step> FailAsync(string what, OpenAIError error)
        {
            LogMalformed(exchange.Logger, exchange.Deployment.Name, what);
            await sse.EndWithErrorAsync(error.ToUtf8());
            return Step.Ended;
        }

        // Handles one event's data: relays it (written, not yet flushed), or says the stream is done or has ended.
        async ValueTask<Step> EventAsync(ReadOnlyMemory<byte> data)
        {
            if (data.Span.SequenceEqual("[DONE]"u8))
            {
                return Step.Done;
            }
            if (data.Span.Contains((byte)'\r'))
            {
                // A lone carriage return ends a line for SSE readers; in valid JSON it is whitespace, so it goes.
                var copy = data.ToArray();
                copy.AsSpan().Replace((byte)'\r', (byte)' ');
                data = copy;
            }
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(data);
            }
            catch (JsonException)
            {
                LogMalformed(exchange.Logger, exchange.Deployment.Name, "a stream event that is not JSON");
                await sse.EndWithErrorAsync(UpstreamErrors.Malformed("a stream event that is not JSON").ToUtf8());
                return Step.Ended;
            }
            using (document)
            {
                var chunk = document.RootElement;
                if (chunk.ValueKind != JsonValueKind.Object)
                {
                    await sse.EndWithErrorAsync(UpstreamErrors.Malformed("a stream event that is not an object").ToUtf8());
                    return Step.Ended;
                }
                if (JsonCheck.Get(chunk, "error") is { ValueKind: not JsonValueKind.Null })
                {
                    // The upstream's own error event, relayed as it came; the completion is not stored.
                    LogStreamError(exchange.Logger, exchange.Deployment.Name);
                    await sse.EndWithErrorAsync(data.ToArray());
                    return Step.Ended;
                }
                if (!JsonText.IsValid(data.Span))
                {
                    return await FailAsync(InvalidText, UpstreamErrors.Malformed(InvalidText));
                }
                assembler.Add(chunk);
                if (assembler.Size > exchange.Deployment.Options.MaxAnswerBytes)
                {
                    return await FailAsync("a streamed answer larger than its MaxAnswerBytes", UpstreamErrors.TooLarge(exchange.Deployment, "a streamed answer"));
                }
                if (hideUsage && IsUsageOnly(chunk))
                {
                    return Step.Next;
                }
                pipe.Write(Sse.DataPrefix);
                JsonSplice.WriteRewritten(pipe, data.Span, exchange.Id, exchange.Created, hideUsage);
                pipe.Write(Sse.EventEnd);
                wrote = true;
            }
            return Step.Next;
        }

        var step = Step.Next;
        try
        {
            await using var body = await upstream.Content.ReadAsStreamAsync(stopped);
            var reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 16384, leaveOpen: true));
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopped);
            var data = new ArrayBufferWriter<byte>(4096);
            var maxEvent = exchange.Deployment.Options.MaxEventBytes;
            var completed = false;
            while (step == Step.Next && !completed)
            {
                idle.CancelAfter(exchange.Deployment.Timeout);
                var read = await reader.ReadAsync(idle.Token);
                var buffer = read.Buffer;
                completed = read.IsCompleted;
                wrote = false;
                while (step == Step.Next && TryReadLine(ref buffer, out var line))
                {
                    if (line.IsEmpty)
                    {
                        if (data.WrittenCount > 0)
                        {
                            step = await EventAsync(data.WrittenMemory);
                            data.ResetWrittenCount();
                        }
                    }
                    else if (line.StartsWith("data:"u8))
                    {
                        var value = line[5..];
                        if (value.StartsWith(" "u8))
                        {
                            value = value[1..];
                        }
                        if (data.WrittenCount + 1 + value.Length > maxEvent)
                        {
                            step = await FailAsync(EventTooLarge, UpstreamErrors.EventTooLarge(exchange.Deployment));
                            break;
                        }
                        if (data.WrittenCount > 0)
                        {
                            // SSE joins an event's data lines with a newline; in JSON that newline can only be
                            // whitespace, and a space keeps the relayed event on one line.
                            data.Write(" "u8);
                        }
                        data.Write(value);
                    }
                    // Comments (": keep-alive") and the event, id and retry fields carry nothing to relay.
                }
                // What is left is a line still arriving: it counts towards its event's size as it grows.
                if (step == Step.Next && data.WrittenCount + buffer.Length > maxEvent)
                {
                    step = await FailAsync(EventTooLarge, UpstreamErrors.EventTooLarge(exchange.Deployment));
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                // Everything that arrived together goes out together, at once: one flush per read, not per event.
                // The next read waits for it, so a client that reads slowly slows the upstream down.
                if (step == Step.Next && wrote)
                {
                    await sse.FlushAsync();
                }
            }
            if (step == Step.Next && data.WrittenCount > 0)
            {
                step = await EventAsync(data.WrittenMemory);
            }
            await reader.CompleteAsync();
        }
        catch (OperationCanceledException) when (!stopped.IsCancellationRequested)
        {
            LogStreamTimeout(exchange.Logger, exchange.Deployment.Name, exchange.Deployment.Timeout.TotalSeconds);
            await sse.EndWithErrorAsync(UpstreamErrors.Timeout(exchange.Deployment).ToUtf8());
            return;
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !stopped.IsCancellationRequested)
        {
            LogStreamBroken(exchange.Logger, exchange.Deployment.Name);
            await sse.EndWithErrorAsync(UpstreamErrors.BrokenStream().ToUtf8());
            return;
        }
        if (step == Step.Ended)
        {
            return;
        }
        // A server that closes without [DONE] after every choice finished has said all it had to say.
        if (step != Step.Done && !assembler.Finished)
        {
            LogStreamBroken(exchange.Logger, exchange.Deployment.Name);
            await sse.EndWithErrorAsync(UpstreamErrors.BrokenStream().ToUtf8());
            return;
        }
        using (var completion = JsonDocument.Parse(assembler.ToCompletion()))
        {
            RateLimits.Settle(context, CompletionTokens(completion.RootElement));
            if (exchange.Request.Store)
            {
                // Stored only while the client is still there and reading.
                await sse.FlushAsync();
                await exchange.StoreAsync(completion.RootElement, assembler.HasUsage);
            }
        }
        await sse.EndAsync();
    }

    /// <summary>The next line (without its <c>\n</c> or <c>\r\n</c>) from the buffer, which moves past it; false when no whole line is left.</summary>
    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySpan<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }
        var slice = buffer.Slice(0, end);
        line = slice.IsSingleSegment ? slice.FirstSpan : slice.ToArray();
        if (line.EndsWith("\r"u8))
        {
            line = line[..^1];
        }
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }

    private static bool IsUsageOnly(JsonElement chunk) =>
        JsonCheck.Get(chunk, "usage") is { ValueKind: JsonValueKind.Object }
        && (JsonCheck.Get(chunk, "choices") is not { ValueKind: JsonValueKind.Array } choices || choices.GetArrayLength() == 0);

    /// <summary>Usage the upstream did not give, counted in o200k_base tokens: the prompt as sent, and every choice's text and calls.</summary>
    private static ChatUsage CountUsage(TokenCounter tokens, ChatCompletionRequest request, JsonElement completion, CancellationToken cancellationToken)
    {
        var prompt = tokens.CountPrompt(request.Messages, request.Tools?.GetRawText(), cancellationToken);
        var answer = 0;
        if (JsonCheck.Get(completion, "choices") is { ValueKind: JsonValueKind.Array } choices)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (JsonCheck.Get(choice, "message") is not { ValueKind: JsonValueKind.Object } message)
                {
                    continue;
                }
                answer += CountText(tokens, message, "content", cancellationToken) + CountText(tokens, message, "refusal", cancellationToken);
                if (JsonCheck.Get(message, "tool_calls") is { ValueKind: JsonValueKind.Array } calls)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        if (JsonCheck.Get(call, "function") is { ValueKind: JsonValueKind.Object } function)
                        {
                            answer += CountText(tokens, function, "name", cancellationToken)
                                + CountText(tokens, function, "arguments", cancellationToken);
                        }
                    }
                }
            }
        }
        return new ChatUsage(prompt, answer);
    }

    /// <summary>The upstream's count of completion tokens, 0 when it gave none.</summary>
    private static int CompletionTokens(JsonElement completion) =>
        JsonCheck.Get(completion, "usage") is { ValueKind: JsonValueKind.Object } usage
        && JsonCheck.Get(usage, "completion_tokens") is { ValueKind: JsonValueKind.Number } count && count.TryGetInt32(out var tokens) ? tokens : 0;

    private static int CountText(TokenCounter tokens, JsonElement parent, string name, CancellationToken cancellationToken) =>
        JsonCheck.Get(parent, name) is { ValueKind: JsonValueKind.String } text ? tokens.Count(text.GetString()!, cancellationToken) : 0;

    private const string InvalidText = "text that is not valid Unicode (bytes that are not UTF-8, or a lone surrogate)";

    private const string EventTooLarge = "a stream event larger than its MaxEventBytes";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} sent {What}.")]
    private static partial void LogMalformed(ILogger logger, string deployment, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} ended its stream with an error event.")]
    private static partial void LogStreamError(ILogger logger, string deployment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} sent nothing for {Seconds} s in a stream.")]
    private static partial void LogStreamTimeout(ILogger logger, string deployment, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment}'s stream broke off before it finished.")]
    private static partial void LogStreamBroken(ILogger logger, string deployment);
}
