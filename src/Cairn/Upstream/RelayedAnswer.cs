using System.Buffers;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Upstream;

/// <summary>
/// An upstream's whole completion (as it answered, or assembled from its stream): relayed byte for byte with Cairn's
/// id and creation time spliced in, and stored with the upstream's usage or, when it gave none, Cairn's count.
/// </summary>
internal sealed class RelayedAnswer(ChatCall call, JsonDocument completion, ReadOnlyMemory<byte> body, ProxyRecord origin, TokenCounter tokens,
    CancellationToken stopping) : IChatAnswer
{
    public int CompletionTokens => UpstreamUsage.CompletionTokens(completion.RootElement);

    public StoredCompletion ToStored(long projectId, string requestId)
    {
        var (from, counted) = Usage();
        return StoredCompletionWriter.BuildProxied(projectId, call.Id, requestId, call.Created, call.Request, completion.RootElement, from, counted);
    }

    public ChatCompletion ToCompletion(string requestId)
    {
        var (from, counted) = Usage();
        return ChatCompletionMapper.FromUpstream(call.Id, requestId, call.Created, call.Request, completion.RootElement, from, counted);
    }

    /// <summary>The upstream's usage, or when it gave none Cairn's count (and the tokenizer that counted, for the origin).</summary>
    private (ProxyRecord From, ChatUsage? Counted) Usage()
    {
        var root = completion.RootElement;
        if (UpstreamUsage.IsGiven(root))
        {
            return (origin, null);
        }
        var counter = tokens.ForModel(origin.UpstreamModel);
        // Counted even if the client left (the answer is stored), but not past the server's shutdown.
        return (origin with { Tokenizer = counter.Encoding }, UpstreamUsage.Count(counter, call.Request, root, stopping));
    }

    public AnswerSummary Summarize() => UpstreamUsage.Summarize(completion.RootElement, call.Request.Model);

    public void WriteBody(IBufferWriter<byte> output) => JsonSplice.WriteRewritten(output, body.Span, call.Id, call.Created, dropUsage: false);

    public void Dispose() => completion.Dispose();
}
