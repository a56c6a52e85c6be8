namespace Cairn.Storage;

/// <summary>Deletes expired completions, a few at a time, so that a purge never holds the store for long.</summary>
internal interface ICompletionRetention
{
    /// <summary>
    /// Deletes up to <paramref name="limit"/> of the oldest completions created before <paramref name="expiredBefore"/>,
    /// in storage order, with their metadata and messages. Each leaves a tombstone like a delete does, so a client
    /// paging past it goes on; tombstones are dropped a day after their completion expired. True when more may be left.
    /// </summary>
    Task<bool> PurgeAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken);
}
