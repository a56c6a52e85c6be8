namespace Cairn.Storage;

/// <summary>
/// Stored responses (the Responses API), always scoped to a project. <see cref="AddAsync"/> completes only once the
/// response is durable and visible to every read, through the same group commit as stored completions. A response
/// of another project, deleted, or never stored is absent from every method, exactly as an unknown id.
/// </summary>
internal interface IResponseStore
{
    Task AddAsync(StoredResponse response, CancellationToken cancellationToken);

    /// <summary>The response object's stored JSON; null when absent.</summary>
    Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken);

    /// <summary>
    /// What a turn that continues <paramref name="id"/> starts from: every input and output item of its chain, oldest
    /// first (the first turn's input, its output, the next turn's input, …, this response's input, its output). Read
    /// in one query however long the chain is. Null when absent.
    /// </summary>
    Task<IReadOnlyList<StoredItem>?> GetContextAsync(long projectId, string id, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the metadata (the column the dashboard filters by and the stored JSON's <c>metadata</c>, which
    /// <paramref name="rewrite"/> makes from the old JSON), in one write. The new stored JSON; null when absent.
    /// </summary>
    Task<byte[]?> UpdateMetadataAsync(
        long projectId, string id, IReadOnlyDictionary<string, string> metadata, Func<byte[], byte[]> rewrite, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a response and its items, in one write. Responses that continued it (<c>previous_response_id</c> = its
    /// id, same project) keep their whole context: its context (its chain's inputs and outputs, oldest first) is copied
    /// in front of each one's own input items and their link to it is cleared, so their <c>input_items</c>, their
    /// context and their own continuations are unchanged (their stored JSON still names it as
    /// <c>previous_response_id</c>, as OpenAI's does). The responses it continued are kept. Its id stays behind as a
    /// tombstone, in the same write: an import skips it and no response is stored under it again. False when absent.
    /// </summary>
    Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken);

    /// <summary>
    /// <c>GET /v1/responses/{id}/input_items</c>: the response's whole input (its chain's inputs and outputs, then its
    /// own input), paged by item id. <see cref="ListFailure.NotFound"/> when the response is absent,
    /// <see cref="ListFailure.UnknownCursor"/> when <c>after</c> is not one of its items.
    /// </summary>
    Task<(StoredPage? Page, ListFailure Failure)> ListInputItemsAsync(long projectId, string id, ItemQuery query, CancellationToken cancellationToken);
}

/// <summary>Cursor of <c>input_items</c>: <paramref name="After"/> is an item id; bytes bounded as a list's.</summary>
internal sealed record ItemQuery(string? After, int Limit, bool Ascending, long MaxBytes = StoredPage.DefaultMaxBytes);
