using System.Buffers;
using System.Text;
using System.Text.Json;
using Cairn.Access;
using Cairn.Backends;
using Cairn.Http;
using Cairn.Storage;

namespace Cairn.OpenAI;

/// <summary><c>POST /v1/chat/completions</c>: validate, route to a backend, answer (whole or streamed), store.</summary>
internal static class ChatCompletionsEndpoints
{
    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateAsync);
        return app;
    }

    private static async Task CreateAsync(
        HttpContext context, ApiOptions options, ModelCatalog models, ICompletionStore store, TimeProvider clock, RateLimits limits,
        ILogger<SseResponse> streamLogger)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        using var request = ChatCompletionRequestParser.Parse(body);
        var caller = Caller.Get(context);
        // A model the key may not use is answered as OpenAI does: as if it did not exist.
        var card = (caller.Allows(request.Model) ? models.Find(request.Model) : null)
            ?? throw new OpenAIException(OpenAIError.ModelNotFound(request.Model));
        if (caller.Grant is { } grant)
        {
            // The prompt is estimated from its characters, not tokenized: a request refused costs no tokenizer time.
            var reserved = (request.MaxCompletionTokens ?? 0) * request.N;
            limits.Acquire(context, grant.Project, () => TokenCounter.EstimatePrompt(request.Messages, request.Tools?.GetRawText()) + reserved, reserved);
        }
        var id = Ids.Completion();
        var created = clock.GetUtcNow().ToUnixTimeSeconds();
        if (card.Route is { } route)
        {
            await Cairn.Upstream.ProxyEndpoint.HandleAsync(context, route, request, id, created);
            return;
        }
        var backend = card.Backend!;
        if (request.Stream)
        {
            var stream = await backend.StreamAsync(request, context.RequestAborted);
            await SseResponse.RunAsync(context, options.StreamSendTimeout, streamLogger,
                sse => StreamAsync(context, sse, stream, request, store, id, created));
            return;
        }
        var outcome = await backend.CompleteAsync(request, context.RequestAborted);
        RateLimits.Settle(context, outcome.Usage.CompletionTokens);
        if (request.Store)
        {
            // Not cancelled with the request: once the answer exists, storing it completes even if the client left.
            await store.AddAsync(StoredCompletionWriter.Build(caller.ProjectId, id, RequestIds.Get(context), created, request, outcome)
                with { LatencyMs = RequestIds.ElapsedMilliseconds(context) }, CancellationToken.None);
        }
        await JsonResponse.WriteAsync(context.Response, (id, created, outcome),
            static (writer, s) => ChatCompletionWriter.WriteCompletion(writer, s.id, s.created, s.outcome));
    }

    private static async Task StreamAsync(
        HttpContext context, SseResponse sse, ChatStream stream, ChatCompletionRequest request, ICompletionStore store, string id, long created)
    {
        var header = new StreamHeader(id, created, stream.Model, stream.SystemFingerprint, request.IncludeUsage, request.Logprobs && stream.Logprobs);
        // The producer stops when the client leaves or stops reading: a llama sequence is freed at once.
        var stopped = sse.Token;
        var pipe = sse.Pipe;
        using var json = new Utf8JsonWriter(pipe, Cairn.OpenAI.JsonWriting.Options);
        var texts = new StringBuilder?[request.N];
        var finishes = new string?[request.N];
        var calls = new IReadOnlyList<ChatToolCall>?[request.N];
        var logprobs = new List<ChatLogprob>?[request.N];
        ChatUsage usage = default;

        void Write(ChunkKind kind, ChatDelta delta)
        {
            pipe.Write(Sse.DataPrefix);
            json.Reset(pipe);
            ChatCompletionWriter.WriteChunk(json, header, kind, delta);
            json.Flush();
            pipe.Write(Sse.EventEnd);
        }

        var deltas = stream.Deltas.GetAsyncEnumerator(stopped);
        try
        {
            while (true)
            {
                var next = deltas.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    // Send what is written while the backend thinks; a backend that is never late costs one flush.
                    await sse.FlushAsync();
                }
                if (!await next)
                {
                    break;
                }
                var delta = deltas.Current;
                if (delta.Usage is { } totals)
                {
                    usage = totals;
                    if (request.IncludeUsage)
                    {
                        Write(ChunkKind.Usage, delta);
                    }
                    continue;
                }
                if (texts[delta.Index] is null)
                {
                    texts[delta.Index] = new StringBuilder();
                    Write(ChunkKind.Role, delta);
                }
                if (delta.Content is not null)
                {
                    texts[delta.Index]!.Append(delta.Content);
                    if (delta.Logprobs is { } entries)
                    {
                        (logprobs[delta.Index] ??= []).AddRange(entries);
                    }
                    Write(ChunkKind.Content, delta);
                }
                if (delta.ToolCalls is { Count: > 0 } toolCalls)
                {
                    calls[delta.Index] = toolCalls;
                    Write(ChunkKind.ToolCalls, delta);
                }
                if (delta.FinishReason is not null)
                {
                    finishes[delta.Index] = delta.FinishReason;
                    Write(ChunkKind.Finish, delta);
                }
                // A backend that is never late (echo) would otherwise have its whole answer written before the first
                // flush; awaiting one every few events lets a slow reader slow it down.
                await sse.FlushIfFullAsync();
            }
        }
        catch (OpenAIException e)
        {
            await sse.EndWithErrorAsync(e.Error.ToUtf8());
            return;
        }
        finally
        {
            await deltas.DisposeAsync();
        }

        RateLimits.Settle(context, usage.CompletionTokens);
        if (request.Store)
        {
            var choices = new ChatChoice[request.N];
            for (var i = 0; i < choices.Length; i++)
            {
                var text = texts[i]?.ToString();
                choices[i] = new ChatChoice(i, calls[i] is not null && text?.Length == 0 ? null : text, finishes[i] ?? "stop", calls[i],
                    header.Logprobs ? logprobs[i] ?? [] : null);
            }
            var outcome = new ChatOutcome(stream.Model, choices, usage, stream.SystemFingerprint, stream.Seed);
            // Stored only while the client is still there and reading.
            await sse.FlushAsync();
            await store.AddAsync(StoredCompletionWriter.Build(Caller.Get(context).ProjectId, id, RequestIds.Get(context), created, request, outcome)
                with { LatencyMs = RequestIds.ElapsedMilliseconds(context) }, CancellationToken.None);
        }
        await sse.EndAsync();
    }
}
