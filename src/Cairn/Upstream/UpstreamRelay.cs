using System.Diagnostics;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// A model answered by upstreams, as a model source: the upstream's answer reaches the client as it was sent, with
/// Cairn's completion id (the one its stored-completions API serves) and creation time in place of the upstream's;
/// streams are relayed event by event while the stored completion is assembled beside them.
/// </summary>
internal sealed class UpstreamRelay(
    ModelRoute route, UpstreamClient client, TokenCounter tokens, IHostApplicationLifetime lifetime, ILogger<UpstreamRelay> logger) : IChatSource
{
    public async Task<IChatAnswer> CompleteAsync(ChatCall call, CancellationToken cancellationToken)
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
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            throw Malformed(answered.Deployment, "an answer that is not JSON");
        }
        var root = document.RootElement;
        var problem = root.ValueKind != JsonValueKind.Object || JsonCheck.Get(root, "choices") is not { ValueKind: JsonValueKind.Array }
            ? "an answer without choices"
            : !JsonText.IsValid(bytes.Span) ? UpstreamLog.InvalidText : null;
        if (problem is not null)
        {
            document.Dispose();
            throw Malformed(answered.Deployment, problem);
        }
        return Answer(call, answered, document, bytes);
    }

    public async Task<IChatStream> StreamAsync(ChatCall call, CancellationToken cancellationToken)
    {
        var answered = await SendAsync(call, cancellationToken);
        return new RelayedStream(call, answered, completion => Answer(call, answered, JsonDocument.Parse(completion), completion), logger);
    }

    private async Task<UpstreamResult.Answered> SendAsync(ChatCall call, CancellationToken cancellationToken) =>
        await client.SendAsync(route, call.Request, cancellationToken) switch
        {
            UpstreamResult.Answered answered => answered,
            UpstreamResult.Failed failed => throw failed.Answer.ToException(),
            _ => throw new UnreachableException(),
        };

    private RelayedAnswer Answer(ChatCall call, UpstreamResult.Answered answered, JsonDocument completion, ReadOnlyMemory<byte> body) =>
        new(call, completion, body, new ProxyRecord(answered.Deployment.Provider, answered.Deployment.Name, answered.UpstreamModel), tokens,
            lifetime.ApplicationStopping);

    private OpenAIException Malformed(UpstreamDeployment deployment, string what)
    {
        UpstreamLog.Malformed(logger, deployment.Name, what);
        return new OpenAIException(UpstreamErrors.Malformed(what));
    }
}
