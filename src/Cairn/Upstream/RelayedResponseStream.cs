using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;

namespace Cairn.Upstream;

/// <summary>
/// An upstream's Responses stream relayed event by event: each event as it came, except the response object in the
/// events that carry one (<c>response.created</c>, <c>…in_progress</c>, <c>…completed</c>, …), which gets Cairn's id and
/// the client's echoes (<paramref name="echo"/>). The event that ends the response is held back for the caller, which
/// stores the response before relaying it. An event is bounded by <c>MaxEventBytes</c>, one that carries the response
/// by <c>MaxAnswerBytes</c> (it holds the whole answer).
/// </summary>
internal sealed class RelayedResponseStream(ResponseCall call, UpstreamResult.Answered upstream, JsonDocument echo, ILogger logger) : IResponseStream
{
    private readonly UpstreamDeployment deployment = upstream.Deployment;
    private (FinishedResponse Response, byte[] LastEvent)? finished;

    /// <summary>The upstream's <c>error</c> event, when it sent one: what a stream that then ends is reported to have failed with.</summary>
    private OpenAIError? error;

    public int NextSequence { get; private set; }

    public async Task<(FinishedResponse Response, byte[] LastEvent)> RelayAsync(SseResponse sse)
    {
        var options = deployment.Options;
        await UpstreamEvents.ReadAsync(upstream, sse, Math.Max(options.MaxEventBytes, options.MaxAnswerBytes),
            () => options.MaxAnswerBytes >= options.MaxEventBytes ? AnswerTooLarge() : EventTooLarge(),
            (ReadOnlySpan<byte> name, ReadOnlyMemory<byte> data, ref bool wrote) => Relay(sse.Pipe, name, data, ref wrote), logger);
        if (finished is { } last)
        {
            return last;
        }
        if (error is not null)
        {
            throw new OpenAIException(error);
        }
        throw UpstreamEvents.Broken(deployment, logger);
    }

    /// <summary>Relays one event (written, not yet flushed); false when it ends the response (held back) or is <c>[DONE]</c>.</summary>
    private bool Relay(PipeWriter pipe, ReadOnlySpan<byte> name, ReadOnlyMemory<byte> data, ref bool wrote)
    {
        if (data.Span.SequenceEqual("[DONE]"u8))
        {
            return false;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data, JsonBody.Stored);
        }
        catch (JsonException)
        {
            throw Malformed("a stream event that is not JSON");
        }
        using (document)
        {
            var payload = document.RootElement;
            if (payload.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("a stream event that is not an object");
            }
            if (!JsonText.IsValid(data.Span))
            {
                throw Malformed(UpstreamLog.InvalidText);
            }
            if (JsonCheck.Get(payload, "sequence_number") is { ValueKind: JsonValueKind.Number } sequence && sequence.TryGetInt32(out var number))
            {
                NextSequence = number + 1;
            }
            var type = JsonCheck.Get(payload, "type") is { ValueKind: JsonValueKind.String } given ? given.GetString() : null;
            Range? response = JsonSplice.TryFindObject(data.Span, "response"u8, out var range) ? range : null;
            if (data.Length > (response is null ? deployment.Options.MaxEventBytes : deployment.Options.MaxAnswerBytes))
            {
                throw response is null ? EventTooLarge() : AnswerTooLarge();
            }
            if (type == "error")
            {
                UpstreamLog.StreamError(logger, deployment.Name);
                error = ErrorOf(payload);
            }
            if (response is null || type is not ("response.completed" or "response.incomplete" or "response.failed"))
            {
                WriteEvent(pipe, name, data.Span, response);
                wrote = true;
                return true;
            }
            var body = new ArrayBufferWriter<byte>(data.Length + 256);
            JsonSplice.WritePatched(body, data.Span[range], echo.RootElement);
            var last = new ArrayBufferWriter<byte>(data.Length + 512);
            WriteEvent(last, name, data.Span, range);
            var read = FinishedResponse.Read(body.WrittenSpan.ToArray(), payload.GetProperty("response"u8), call.Id)
                ?? throw Malformed(ResponseRelay.NotAResponse);
            finished = (read, last.WrittenSpan.ToArray());
            return false;
        }
    }

    /// <summary>
    /// An event as it came, its data on one line after its <c>event:</c> line (when it had one), the response object at
    /// <paramref name="response"/> (when it carries one) given Cairn's id and echoes.
    /// </summary>
    private void WriteEvent(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, Range? response)
    {
        if (!name.IsEmpty)
        {
            output.Write("event: "u8);
            output.Write(name);
            output.Write("\n"u8);
        }
        output.Write(Sse.DataPrefix);
        if (response is { } range)
        {
            var (start, length) = range.GetOffsetAndLength(data.Length);
            output.Write(data[..start]);
            JsonSplice.WritePatched(output, data.Slice(start, length), echo.RootElement);
            output.Write(data[(start + length)..]);
        }
        else
        {
            output.Write(data);
        }
        output.Write(Sse.EventEnd);
    }

    /// <summary>
    /// The message and code of the upstream's <c>error</c> event: OpenAI's <c>{type, code, message, param, sequence_number}</c>,
    /// or the same nested in <c>error</c> as some servers send it.
    /// </summary>
    private static OpenAIError ErrorOf(JsonElement payload)
    {
        var error = JsonCheck.Get(payload, "error") is { ValueKind: JsonValueKind.Object } nested ? nested : payload;
        var message = JsonCheck.Get(error, "message") is { ValueKind: JsonValueKind.String } m ? m.GetString()! : "The model's answer failed.";
        var code = JsonCheck.Get(error, "code") is { ValueKind: JsonValueKind.String } c ? c.GetString() : null;
        return new OpenAIError(StatusCodes.Status502BadGateway, message, "server_error", null, code);
    }

    private StreamFailedException Malformed(string what) => UpstreamEvents.Malformed(deployment, logger, what, UpstreamErrors.Malformed(what));

    private StreamFailedException EventTooLarge() =>
        UpstreamEvents.Malformed(deployment, logger, UpstreamLog.EventTooLarge, UpstreamErrors.EventTooLarge(deployment));

    private StreamFailedException AnswerTooLarge() =>
        UpstreamEvents.Malformed(deployment, logger, "a streamed answer larger than its MaxAnswerBytes", UpstreamErrors.TooLarge(deployment, "a streamed answer"));

    public ValueTask DisposeAsync()
    {
        echo.Dispose();
        upstream.Response.Dispose();
        return ValueTask.CompletedTask;
    }
}
