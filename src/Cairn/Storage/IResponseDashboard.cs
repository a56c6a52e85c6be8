namespace Cairn.Storage;

/// <summary>
/// The dashboard's reads of stored responses. A null project means every project (the admin's view); otherwise a
/// response of another project is absent, exactly as an unknown id. The list is a keyset page over storage order,
/// newest first, like the completions' list, and reads neither bodies nor items.
/// </summary>
internal interface IResponseDashboard
{
    /// <summary>The most items of a chain <see cref="GetAsync"/> reads: the newest, this response's output first.</summary>
    const int MaxItems = 2_000;

    /// <summary>The most bytes of items <see cref="GetAsync"/> reads (the first item is always read).</summary>
    const long MaxItemBytes = 8L << 20;

    Task<ResponseRows> ListAsync(ResponseFilter filter, PageCursor cursor, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Where the list's cursor (a response id) lies in storage order, if the response is the project's (any project's for
    /// null), stored or deleted: a page goes on after a response deleted meanwhile.
    /// </summary>
    Task<long?> CursorAsync(long? projectId, string id, CancellationToken cancellationToken);

    /// <summary>A response with its chain's items, as its page shows it; null when absent.</summary>
    Task<ResponseDetail?> GetAsync(long? projectId, string id, CancellationToken cancellationToken);

    /// <summary>The models that have stored responses (for the filter's choices).</summary>
    Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken);
}
