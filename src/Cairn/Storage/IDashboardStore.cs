namespace Cairn.Storage;

/// <summary>
/// The dashboard's reads. A null project means every project (the admin's view). Lists are keyset pages over
/// storage order, newest first, like the API's, so a page costs its own rows at any depth.
/// </summary>
internal interface IDashboardStore
{
    /// <summary>The most input messages <see cref="GetAsync"/> reads of a completion (what its page shows).</summary>
    const int MaxMessages = 2_000;

    Task<CompletionRows> ListAsync(DashboardFilter filter, PageCursor cursor, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Where the list's cursor (a completion id, also one deleted since) lies in storage order, if the completion is
    /// the project's (any project's for null); null otherwise, so a cursor tells nothing of other projects' rows.
    /// </summary>
    Task<long?> CursorAsync(long? projectId, string id, CancellationToken cancellationToken);

    Task<CompletionDetail?> GetAsync(long? projectId, string id, CancellationToken cancellationToken);

    /// <summary>Requests and tokens per hour and model with <c>from &lt;= hour &lt; to</c> (unix seconds), from the rollup.</summary>
    Task<IReadOnlyList<UsagePoint>> UsageAsync(long? projectId, long from, long to, CancellationToken cancellationToken);

    /// <summary>The models that have stored completions (for the filter's choices).</summary>
    Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken);
}
