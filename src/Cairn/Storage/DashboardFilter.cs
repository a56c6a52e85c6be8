namespace Cairn.Storage;

/// <summary>
/// What the dashboard's list shows: a <see cref="CompletionFilter"/> whose time range is given as instants (<c>From</c>
/// inclusive, <c>To</c> exclusive), and words to search for.
/// </summary>
internal sealed record DashboardFilter(
    long? ProjectId,
    string? Model,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    DateTimeOffset? From,
    DateTimeOffset? To,
    string? Text) : CompletionFilter(ProjectId, Model, Metadata, From?.ToUnixTimeSeconds(), To?.ToUnixTimeSeconds())
{
    /// <summary>The words a text search looks for: letters and digits, each matched as the start of a word, all of them required.</summary>
    public IReadOnlyList<string> Words { get; } = SearchWords.Split(Text);
}

/// <summary>Where a page starts: before a seq (older), after one (newer), or at the newest. The URL carries completion ids, never seqs.</summary>
internal readonly record struct PageCursor(long? Before, long? After)
{
    public static PageCursor Newest => default;
}

/// <summary>A completion as the list shows it.</summary>
internal sealed record CompletionRow(
    long Seq,
    string Id,
    long ProjectId,
    string Model,
    long Created,
    IReadOnlyDictionary<string, string> Metadata,
    string? Prompt,
    string? Answer,
    long PromptTokens,
    long CompletionTokens);

/// <summary>A page of the list, newest first, and whether there are older and newer rows beyond it.</summary>
internal sealed record CompletionRows(IReadOnlyList<CompletionRow> Rows, bool HasOlder, bool HasNewer);

/// <summary>A stored completion with its project and its input messages, as stored.</summary>
/// <param name="TraceId">The W3C trace id of the request that stored it, when its trace was recorded.</param>
internal sealed record CompletionDetail(long ProjectId, string Id, byte[] Body, IReadOnlyList<byte[]> Messages, long? LatencyMs, string? TraceId);

/// <summary>One hour of one model in the rollup.</summary>
internal sealed record UsagePoint(long Hour, string Model, long Requests, long PromptTokens, long CompletionTokens);
