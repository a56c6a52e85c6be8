using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// An upstream's stream relayed event by event: each event's JSON as it came, with Cairn's id and creation time
/// spliced in, and the usage chunk hidden when Cairn asked for it. Every event (<c>MaxEventBytes</c>, read by
/// <see cref="UpstreamEvents"/>) and the assembled completion (<c>MaxAnswerBytes</c>) is bounded.
/// </summary>
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
        var hideUsage = UpstreamBody.AddsUsage(call.Request, deployment.Options);
        var done = await UpstreamEvents.ReadAsync(upstream, sse, deployment.Options.MaxEventBytes,
            () => UpstreamEvents.Malformed(deployment, logger, UpstreamLog.EventTooLarge, UpstreamErrors.EventTooLarge(deployment)),
            (ReadOnlySpan<byte> _, ReadOnlyMemory<byte> data, ref bool wrote) => Relay(sse.Pipe, data, hideUsage, ref wrote), logger);
        // A server that closes without [DONE] after every choice finished has said all it had to say.
        if (!done && !assembler.Finished)
        {
            throw UpstreamEvents.Broken(deployment, logger);
        }
        return toAnswer(assembler.ToCompletion());
    }

    /// <summary>Relays one event's data (written, not yet flushed); false when it is <c>[DONE]</c>.</summary>
    private bool Relay(PipeWriter pipe, ReadOnlyMemory<byte> data, bool hideUsage, ref bool wrote)
    {
        if (data.Span.SequenceEqual("[DONE]"u8))
        {
            return false;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException)
        {
            throw Fail("a stream event that is not JSON", UpstreamErrors.Malformed("a stream event that is not JSON"));
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
                throw Fail(UpstreamLog.InvalidText, UpstreamErrors.Malformed(UpstreamLog.InvalidText));
            }
            assembler.Add(chunk);
            if (assembler.Size > deployment.Options.MaxAnswerBytes)
            {
                throw Fail("a streamed answer larger than its MaxAnswerBytes", UpstreamErrors.TooLarge(deployment, "a streamed answer"));
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

    private StreamFailedException Fail(string what, OpenAIError error) => UpstreamEvents.Malformed(deployment, logger, what, error);

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
