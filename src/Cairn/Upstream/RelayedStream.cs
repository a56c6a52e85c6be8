using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// An upstream's stream relayed event by event: each event's JSON as it came, with Cairn's id and creation time
/// spliced in, and the usage chunk hidden when Cairn asked for it. One flush per read, not per event. Every event
/// (<c>MaxEventBytes</c>) and the assembled completion (<c>MaxAnswerBytes</c>) is bounded.
/// </summary>
/// <remarks>
/// The reader is Cairn's own rather than <c>System.Net.ServerSentEvents.SseParser</c>: in .NET 10 the parser has no
/// limit on a line or event (it grows its buffer to about 1 GiB), gives no say over when a read's events are
/// flushed, and skips comments, so a keep-alive could not restart the idle timer.
/// </remarks>
internal sealed class RelayedStream(
    ChatCall call, UpstreamResult.Answered upstream, Func<byte[], RelayedAnswer> toAnswer, ILogger logger) : IChatStream
{
    private readonly UpstreamDeployment deployment = upstream.Deployment;
    private readonly StreamAssembler assembler = new();

    /// <summary>Where the first choice's text goes when the events are not relayed (<see cref="ReadTextAsync"/>).</summary>
    private Action<string>? onText;

    public Task<IChatAnswer> ReadTextAsync(SseResponse sse, Action<string> onText)
    {
        this.onText = onText;
        return WriteEventsAsync(sse);
    }

    public async Task<IChatAnswer> WriteEventsAsync(SseResponse sse)
    {
        // Cancelled when the client leaves or stops reading; disposing this stream then closes the upstream connection.
        var stopped = sse.Token;
        var done = false;
        try
        {
            await using var body = await upstream.Response.Content.ReadAsStreamAsync(stopped);
            var reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 16384, leaveOpen: true));
            try
            {
                done = await RelayAsync(reader, sse);
            }
            finally
            {
                await reader.CompleteAsync();
            }
        }
        catch (OperationCanceledException) when (!stopped.IsCancellationRequested)
        {
            UpstreamLog.StreamTimeout(logger, deployment.Name, deployment.Timeout.TotalSeconds);
            throw new StreamFailedException(UpstreamErrors.Timeout(deployment).ToUtf8());
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !stopped.IsCancellationRequested)
        {
            throw Broken();
        }
        // A server that closes without [DONE] after every choice finished has said all it had to say.
        if (!done && !assembler.Finished)
        {
            throw Broken();
        }
        return toAnswer(assembler.ToCompletion());
    }

    /// <summary>Relays events until <c>[DONE]</c> (true) or the end of the upstream's body (false).</summary>
    private async Task<bool> RelayAsync(PipeReader reader, SseResponse sse)
    {
        var hideUsage = UpstreamBody.AddsUsage(call.Request, deployment.Options);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(sse.Token);
        var data = new ArrayBufferWriter<byte>(4096);
        var maxEvent = deployment.Options.MaxEventBytes;
        while (true)
        {
            idle.CancelAfter(deployment.Timeout);
            var read = await reader.ReadAsync(idle.Token);
            var buffer = read.Buffer;
            var wrote = false;
            while (TryReadLine(ref buffer, out var line))
            {
                if (line.IsEmpty)
                {
                    if (data.WrittenCount > 0)
                    {
                        if (!Relay(sse.Pipe, data.WrittenMemory, hideUsage, ref wrote))
                        {
                            return true;
                        }
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
                        throw Failed(UpstreamLog.EventTooLarge, UpstreamErrors.EventTooLarge(deployment));
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
            if (data.WrittenCount + buffer.Length > maxEvent)
            {
                throw Failed(UpstreamLog.EventTooLarge, UpstreamErrors.EventTooLarge(deployment));
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return data.WrittenCount > 0 && !Relay(sse.Pipe, data.WrittenMemory, hideUsage, ref wrote);
            }
            // Everything that arrived together goes out together, at once: one flush per read, not per event.
            // The next read waits for it, so a client that reads slowly slows the upstream down.
            if (wrote)
            {
                await sse.FlushAsync();
            }
        }
    }

    /// <summary>Relays one event's data (written, not yet flushed); false when it is <c>[DONE]</c>.</summary>
    private bool Relay(PipeWriter pipe, ReadOnlyMemory<byte> data, bool hideUsage, ref bool wrote)
    {
        if (data.Span.SequenceEqual("[DONE]"u8))
        {
            return false;
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
            throw Failed("a stream event that is not JSON", UpstreamErrors.Malformed("a stream event that is not JSON"));
        }
        using (document)
        {
            var chunk = document.RootElement;
            if (chunk.ValueKind != JsonValueKind.Object)
            {
                throw new StreamFailedException(UpstreamErrors.Malformed("a stream event that is not an object").ToUtf8());
            }
            if (JsonCheck.Get(chunk, "error") is { ValueKind: not JsonValueKind.Null })
            {
                // The upstream's own error event, relayed as it came; the completion is not stored.
                UpstreamLog.StreamError(logger, deployment.Name);
                throw new StreamFailedException(data.ToArray());
            }
            if (!JsonText.IsValid(data.Span))
            {
                throw Failed(UpstreamLog.InvalidText, UpstreamErrors.Malformed(UpstreamLog.InvalidText));
            }
            assembler.Add(chunk);
            if (assembler.Size > deployment.Options.MaxAnswerBytes)
            {
                throw Failed("a streamed answer larger than its MaxAnswerBytes", UpstreamErrors.TooLarge(deployment, "a streamed answer"));
            }
            if (onText is not null)
            {
                wrote |= GiveText(chunk, onText);
                return true;
            }
            if (hideUsage && IsUsageOnly(chunk))
            {
                return true;
            }
            pipe.Write(Sse.DataPrefix);
            JsonSplice.WriteRewritten(pipe, data.Span, call.Id, call.Created, hideUsage);
            pipe.Write(Sse.EventEnd);
            wrote = true;
        }
        return true;
    }

    /// <summary>Ends the stream with Cairn's error about what the upstream sent; nothing is stored.</summary>
    private StreamFailedException Failed(string what, OpenAIError error)
    {
        UpstreamLog.Malformed(logger, deployment.Name, what);
        return new StreamFailedException(error.ToUtf8());
    }

    private StreamFailedException Broken()
    {
        UpstreamLog.StreamBroken(logger, deployment.Name);
        return new StreamFailedException(UpstreamErrors.BrokenStream().ToUtf8());
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

    /// <summary>Gives the first choice's text in <paramref name="chunk"/> to <paramref name="onText"/>; true when there was some.</summary>
    private static bool GiveText(JsonElement chunk, Action<string> onText)
    {
        if (JsonCheck.Get(chunk, "choices") is not { ValueKind: JsonValueKind.Array } choices)
        {
            return false;
        }
        foreach (var choice in choices.EnumerateArray())
        {
            if (choice.ValueKind == JsonValueKind.Object
                && (JsonCheck.Get(choice, "index") is not { ValueKind: JsonValueKind.Number } index || (index.TryGetInt64(out var i) && i == 0))
                && JsonCheck.Get(choice, "delta") is { ValueKind: JsonValueKind.Object } delta
                && JsonCheck.Get(delta, "content") is { ValueKind: JsonValueKind.String } content
                && content.GetString() is { Length: > 0 } text)
            {
                onText(text);
                return true;
            }
        }
        return false;
    }

    private static bool IsUsageOnly(JsonElement chunk) =>
        JsonCheck.Get(chunk, "usage") is { ValueKind: JsonValueKind.Object }
        && (JsonCheck.Get(chunk, "choices") is not { ValueKind: JsonValueKind.Array } choices || choices.GetArrayLength() == 0);

    public ValueTask DisposeAsync()
    {
        upstream.Response.Dispose();
        return ValueTask.CompletedTask;
    }
}
