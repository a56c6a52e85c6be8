using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;

namespace Cairn.Upstream;

/// <summary>
/// A model whose upstream speaks the Responses API (<c>ResponsesApi: native</c>), as a response source: the request
/// relayed as the client sent it (<see cref="ResponsesBody"/>), through the same client, retries and fallback as chat;
/// the upstream's response object (whole, or in each event that carries one) reaching the client as the upstream
/// wrote it, with Cairn's response id and the client's <c>previous_response_id</c>, <c>store</c> and <c>metadata</c>
/// in place of the upstream's, so that the chain, the store and the client all see one id.
/// </summary>
internal sealed class ResponseRelay(ModelRoute route, UpstreamClient client, ILogger<ResponseRelay> logger) : IResponseSource
{
    public async Task<FinishedResponse> CompleteAsync(ResponseCall call, CancellationToken cancellationToken)
    {
        var answered = await SendAsync(call, cancellationToken);
        using var response = answered.Response;
        // Read (at most MaxAnswerBytes) inside the retry pipeline, by UpstreamBuffering.
        var bytes = response.Content is BufferedAnswer buffered ? buffered.Bytes : await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (bytes.Span.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, JsonBody.Stored);
        }
        catch (JsonException)
        {
            throw Malformed(answered.Deployment, "an answer that is not JSON");
        }
        using (document)
        {
            if (!JsonText.IsValid(bytes.Span))
            {
                throw Malformed(answered.Deployment, UpstreamLog.InvalidText);
            }
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Malformed(answered.Deployment, NotAResponse);
            }
            using var echo = Echo(call);
            var body = new ArrayBufferWriter<byte>(bytes.Length + 256);
            JsonSplice.WritePatched(body, bytes.Span, echo.RootElement);
            return FinishedResponse.Read(body.WrittenSpan.ToArray(), document.RootElement, call.Id)
                ?? throw Malformed(answered.Deployment, NotAResponse);
        }
    }

    public async Task<IResponseStream> StreamAsync(ResponseCall call, CancellationToken cancellationToken)
    {
        var answered = await SendAsync(call, cancellationToken);
        return new RelayedResponseStream(call, answered, Echo(call), logger);
    }

    public const string NotAResponse = "an answer that is not a response object";

    /// <summary>
    /// What Cairn puts in the upstream's response object: its own id, and the request's echoes the upstream cannot know
    /// (it was sent <c>store:false</c>, no <c>previous_response_id</c>, perhaps no <c>metadata</c>).
    /// </summary>
    private static JsonDocument Echo(ResponseCall call)
    {
        var request = call.Request;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, call.Id);
            writer.StringOrNull("previous_response_id"u8, request.PreviousResponseId);
            writer.WriteBoolean("store"u8, request.Store);
            writer.Metadata(request.Metadata);
            writer.WriteEndObject();
        }
        return JsonDocument.Parse(buffer.WrittenMemory);
    }

    private async Task<UpstreamResult.Answered> SendAsync(ResponseCall call, CancellationToken cancellationToken)
    {
        var request = call.Request;
        var send = new UpstreamCall(UpstreamApi.Responses, request.Model, request.Stream,
            (deployment, model) => ResponsesBody.Write(call, model, deployment.Options));
        return await client.SendAsync(route, send, cancellationToken) switch
        {
            UpstreamResult.Answered answered => answered,
            UpstreamResult.Failed failed => throw failed.Answer.ToException(),
            _ => throw new UnreachableException(),
        };
    }

    private OpenAIException Malformed(UpstreamDeployment deployment, string what)
    {
        UpstreamLog.Malformed(logger, deployment.Name, what);
        return new OpenAIException(UpstreamErrors.Malformed(what));
    }
}
