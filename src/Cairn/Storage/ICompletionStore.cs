namespace Cairn.Storage;

/// <summary>
/// Stored completions, always scoped to a project. <see cref="AddAsync"/> completes only once the completion is
/// durable and visible to every read.
/// </summary>
internal interface ICompletionStore
{
    Task AddAsync(StoredCompletion completion, CancellationToken cancellationToken);

    Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken);

    Task<(StoredPage? Page, ListFailure Failure)> ListAsync(long projectId, CompletionQuery query, CancellationToken cancellationToken);

    /// <summary>Replaces the metadata; <paramref name="rewrite"/> makes the new stored JSON from the old. Null when absent.</summary>
    Task<byte[]?> UpdateMetadataAsync(
        long projectId, string id, IReadOnlyDictionary<string, string> metadata, Func<byte[], byte[]> rewrite, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken);

    Task<(StoredPage? Page, ListFailure Failure)> ListMessagesAsync(long projectId, string id, MessageQuery query, CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);
}
