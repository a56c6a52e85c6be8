using System.Buffers;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Backends;

/// <summary>A local backend's streamed answer: each delta written as a <c>chat.completion.chunk</c> as it comes.</summary>
internal sealed class LocalStream(ChatCall call, ChatStream stream) : IChatStream
{
    public async Task<IChatAnswer> WriteEventsAsync(SseResponse sse)
    {
        var request = call.Request;
        var header = new StreamHeader(call.Id, call.Created, stream.Model, stream.SystemFingerprint, request.IncludeUsage, request.Logprobs && stream.Logprobs);
        var pipe = sse.Pipe;
        using var json = new Utf8JsonWriter(pipe, JsonWriting.Options);
        return await ReadAsync(sse, header.Logprobs, (kind, delta) =>
        {
            pipe.Write(Sse.DataPrefix);
            json.Reset(pipe);
            ChatCompletionWriter.WriteChunk(json, header, kind, delta);
            json.Flush();
            pipe.Write(Sse.EventEnd);
        });
    }

    public Task<IChatAnswer> ReadTextAsync(SseResponse sse, Action<string> onText) =>
        ReadAsync(sse, call.Request.Logprobs && stream.Logprobs, (kind, delta) =>
        {
            if (kind == ChunkKind.Content && delta.Index == 0)
            {
                onText(delta.Content!);
            }
        });

    /// <summary>Reads every delta, giving each to <paramref name="write"/> as the chunk it would be, and assembles the answer.</summary>
    private async Task<IChatAnswer> ReadAsync(SseResponse sse, bool logprobs, Action<ChunkKind, ChatDelta> write)
    {
        var request = call.Request;
        var answer = new DeltaAssembler(stream, request.N, logprobs);

        // The producer stops when the client leaves or stops reading: a llama sequence is freed at once.
        var deltas = stream.Deltas.GetAsyncEnumerator(sse.Token);
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
                if (answer.Add(delta))
                {
                    write(ChunkKind.Role, delta);
                }
                if (delta.Usage is not null)
                {
                    if (request.IncludeUsage)
                    {
                        write(ChunkKind.Usage, delta);
                    }
                    continue;
                }
                if (delta.Content is not null)
                {
                    write(ChunkKind.Content, delta);
                }
                if (delta.ToolCalls is { Count: > 0 })
                {
                    write(ChunkKind.ToolCalls, delta);
                }
                if (delta.FinishReason is not null)
                {
                    write(ChunkKind.Finish, delta);
                }
                // A backend that is never late (echo) would otherwise have its whole answer written before the first
                // flush; awaiting one every few events lets a slow reader slow it down.
                await sse.FlushIfFullAsync();
            }
        }
        finally
        {
            await deltas.DisposeAsync();
        }
        return new LocalAnswer(call, answer.ToOutcome());
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
