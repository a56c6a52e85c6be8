namespace Cairn.Storage;

/// <summary>What the dashboard's list of responses shows: a project (null: every project), a model, a metadata pair.</summary>
internal sealed record ResponseFilter(long? ProjectId, string? Model, KeyValuePair<string, string>? Pair);

/// <summary>A response as the list shows it: the columns beside its body and its preview.</summary>
internal sealed record ResponseRow(
    long Seq,
    string Id,
    long ProjectId,
    string Model,
    long CreatedAt,
    string Status,
    IReadOnlyDictionary<string, string> Metadata,
    string? Input,
    string? Output,
    long InputTokens,
    long OutputTokens);

/// <summary>A page of the list, newest first, and whether there are older and newer rows beyond it.</summary>
internal sealed record ResponseRows(IReadOnlyList<ResponseRow> Rows, bool HasOlder, bool HasNewer);

/// <summary>
/// A stored response with its project and its chain's items, oldest first: the items of the responses it continued,
/// then its own input, then its output. <paramref name="EarlierItemsLeftOut"/> when the chain held more than
/// <see cref="IResponseDashboard.MaxItems"/> items or bytes and its oldest were not read.
/// </summary>
/// <param name="TraceId">The W3C trace id of the request that stored it, when its trace was recorded.</param>
/// <param name="PreviousId">The response it continued, while that one is still stored; null otherwise.</param>
internal sealed record ResponseDetail(
    long ProjectId,
    string Id,
    byte[] Body,
    string? RequestId,
    long? LatencyMs,
    string? TraceId,
    string? PreviousId,
    IReadOnlyList<ChainItem> Items,
    bool EarlierItemsLeftOut);

/// <summary>One item of a response's chain, as stored.</summary>
/// <param name="ResponseId">The response of the chain that holds it.</param>
/// <param name="Depth">0 for the response shown, 1 for the one it continued, and so on.</param>
/// <param name="Position">
/// Its place among its response's items: below 0 for the context carried over when a response that one continued
/// was deleted, then its input from 0, then its output.
/// </param>
internal sealed record ChainItem(string ResponseId, int Depth, int Position, bool IsOutput, byte[] Body);
