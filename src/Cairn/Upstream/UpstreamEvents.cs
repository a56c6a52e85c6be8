using System.Buffers;
using System.IO.Pipelines;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// Reads an upstream's server-sent events for a relay (chat chunks, or a Responses API's events), one event at a time:
/// its name (the <c>event:</c> field) and its data (the <c>data:</c> lines joined), each event bounded in size, the
/// deployment's timeout between reads. The relay writes what it makes of an event; this flushes once per read, not
/// per event, so a client that reads slowly slows the upstream down.
/// </summary>
/// <remarks>
/// The reader is Cairn's own rather than <c>System.Net.ServerSentEvents.SseParser</c>: in .NET 10 the parser has no
/// limit on a line or event (it grows its buffer to about 1 GiB), gives no say over when a read's events are
/// flushed, and skips comments, so a keep-alive could not restart the idle timer.
/// </remarks>
internal static class UpstreamEvents
{
    /// <summary>Takes one event (what it writes is flushed later); false to stop reading. Sets <paramref name="wrote"/> when it wrote.</summary>
    public delegate bool Take(ReadOnlySpan<byte> name, ReadOnlyMemory<byte> data, ref bool wrote);

    /// <summary>
    /// Hands each event of <paramref name="upstream"/>'s body to <paramref name="take"/> until it returns false (then
    /// true) or the body ends (false, after the last event, even one without its blank line). Ends the stream with a
    /// <see cref="StreamFailedException"/>: <paramref name="tooLarge"/>'s when an event's data passes
    /// <paramref name="maxEvent"/> bytes, Cairn's timeout when the upstream sends nothing for its timeout, a broken
    /// stream when the connection fails. Stops when <see cref="SseResponse.Token"/> is cancelled.
    /// </summary>
    public static async Task<bool> ReadAsync(
        UpstreamResult.Answered upstream, SseResponse sse, long maxEvent, Func<StreamFailedException> tooLarge, Take take, ILogger logger)
    {
        var deployment = upstream.Deployment;
        // Cancelled when the client leaves or stops reading; the relay's stream then closes the upstream connection.
        var stopped = sse.Token;
        try
        {
            await using var body = await upstream.Response.Content.ReadAsStreamAsync(stopped);
            var reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 16384, leaveOpen: true));
            try
            {
                return await ReadAsync(reader, deployment.Timeout, sse, maxEvent, tooLarge, take);
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
            throw Broken(deployment, logger);
        }
    }

    /// <summary>Ends a stream that broke off before it finished; nothing is stored.</summary>
    public static StreamFailedException Broken(UpstreamDeployment deployment, ILogger logger)
    {
        UpstreamLog.StreamBroken(logger, deployment.Name);
        return new StreamFailedException(UpstreamErrors.BrokenStream().ToUtf8());
    }

    /// <summary>Ends a stream with Cairn's error about what the upstream sent (<paramref name="what"/>, for the log); nothing is stored.</summary>
    public static StreamFailedException Malformed(UpstreamDeployment deployment, ILogger logger, string what, OpenAIError error)
    {
        UpstreamLog.Malformed(logger, deployment.Name, what);
        return new StreamFailedException(error.ToUtf8());
    }

    private static async Task<bool> ReadAsync(
        PipeReader reader, TimeSpan timeout, SseResponse sse, long maxEvent, Func<StreamFailedException> tooLarge, Take take)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(sse.Token);
        var name = new ArrayBufferWriter<byte>(64);
        var data = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            idle.CancelAfter(timeout);
            var read = await reader.ReadAsync(idle.Token);
            var buffer = read.Buffer;
            var wrote = false;
            while (TryReadLine(ref buffer, out var line))
            {
                if (line.IsEmpty)
                {
                    if (data.WrittenCount > 0)
                    {
                        if (!Hand(take, name, data, ref wrote))
                        {
                            return true;
                        }
                        data.ResetWrittenCount();
                    }
                    name.ResetWrittenCount();
                }
                else if (line.StartsWith("data:"u8))
                {
                    var value = Value(line[5..]);
                    if (name.WrittenCount + data.WrittenCount + 1 + value.Length > maxEvent)
                    {
                        throw tooLarge();
                    }
                    if (data.WrittenCount > 0)
                    {
                        // SSE joins an event's data lines with a newline; in JSON that newline can only be
                        // whitespace, and a space keeps the relayed event on one line.
                        data.Write(" "u8);
                    }
                    data.Write(value);
                }
                else if (line.StartsWith("event:"u8))
                {
                    var value = Value(line[6..]);
                    if (value.Length + data.WrittenCount > maxEvent)
                    {
                        throw tooLarge();
                    }
                    name.ResetWrittenCount();
                    name.Write(value);
                }
                // Comments (": keep-alive") and the id and retry fields carry nothing to relay.
            }
            // What is left is a line still arriving: it counts towards its event's size as it grows.
            if (name.WrittenCount + data.WrittenCount + buffer.Length > maxEvent)
            {
                throw tooLarge();
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return data.WrittenCount > 0 && !Hand(take, name, data, ref wrote);
            }
            // Everything that arrived together goes out together, at once: one flush per read, not per event.
            // The next read waits for it, so a client that reads slowly slows the upstream down.
            if (wrote)
            {
                await sse.FlushAsync();
            }
        }
    }

    private static bool Hand(Take take, ArrayBufferWriter<byte> name, ArrayBufferWriter<byte> data, ref bool wrote)
    {
        ReadOnlyMemory<byte> value = data.WrittenMemory;
        if (value.Span.Contains((byte)'\r'))
        {
            // A lone carriage return ends a line for SSE readers; in valid JSON it is whitespace, so it goes.
            var copy = value.ToArray();
            copy.AsSpan().Replace((byte)'\r', (byte)' ');
            value = copy;
        }
        return take(name.WrittenSpan, value, ref wrote);
    }

    /// <summary>A field's value: what follows its colon, less one leading space.</summary>
    private static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> rest) => rest.StartsWith(" "u8) ? rest[1..] : rest;

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
}
