namespace Cairn.Storage;

/// <summary>A page of stored JSON items in list order, and whether more follow.</summary>
internal sealed record StoredPage(IReadOnlyList<StoredItem> Items, bool HasMore);

/// <summary>One item of a page: its id and its stored JSON.</summary>
internal readonly record struct StoredItem(string Id, byte[] Body);

/// <summary>Filters and cursor of <c>GET /v1/chat/completions</c>.</summary>
internal sealed record CompletionQuery(
    string? Model,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    string? After,
    int Limit,
    bool Ascending);

/// <summary>Cursor of <c>GET /v1/chat/completions/{id}/messages</c>: positions are the messages' indexes.</summary>
internal sealed record MessageQuery(int? AfterIndex, int Limit, bool Ascending);

/// <summary>Why a list could not be answered.</summary>
internal enum ListFailure
{
    None,
    NotFound,
    UnknownCursor,
}
