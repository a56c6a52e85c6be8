namespace Cairn.Storage;

/// <summary>A page of stored JSON items in list order, and whether more follow.</summary>
internal sealed record StoredPage(IReadOnlyList<StoredItem> Items, bool HasMore)
{
    /// <summary>The default budget of a page's stored bytes (<c>Api:MaxListPageBytes</c>).</summary>
    public const long DefaultMaxBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Whether an item of <paramref name="size"/> bytes joins a page that already holds <paramref name="count"/>
    /// items of <paramref name="bytes"/>: the first always does, the others while the page stays within the budget.
    /// </summary>
    public static bool Fits(int count, long bytes, long size, long maxBytes) => count == 0 || bytes + size <= maxBytes;
}

/// <summary>One item of a page: its id and its stored JSON.</summary>
internal readonly record struct StoredItem(string Id, byte[] Body);

/// <summary>
/// Filters and cursor of <c>GET /v1/chat/completions</c>. A page ends early, with more to follow, where its stored
/// bytes would pass <paramref name="MaxBytes"/> (it always holds at least one item).
/// </summary>
internal sealed record CompletionQuery(
    string? Model,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    string? After,
    int Limit,
    bool Ascending,
    long MaxBytes = StoredPage.DefaultMaxBytes)
{
    /// <summary>The filters of this list within <paramref name="projectId"/>.</summary>
    public CompletionFilter Filter(long projectId) => new(projectId, Model, Metadata, FromSeconds: null, ToSeconds: null);
}

/// <summary>Cursor of <c>GET /v1/chat/completions/{id}/messages</c>: positions are the messages' indexes; bytes bounded as a list's.</summary>
internal sealed record MessageQuery(int? AfterIndex, int Limit, bool Ascending, long MaxBytes = StoredPage.DefaultMaxBytes);

/// <summary>Why a list could not be answered.</summary>
internal enum ListFailure
{
    None,
    NotFound,
    UnknownCursor,
}
