namespace Cairn.Storage;

/// <summary>Deletes expired responses, a few at a time, by the rule completions expire by.</summary>
internal interface IResponseRetention
{
    /// <summary>
    /// Deletes up to <paramref name="limit"/> of the oldest responses created before <paramref name="expiredBefore"/>,
    /// in storage order, with their items, in one write. A response that continued one of them and is kept gets its
    /// context folded in, as <see cref="IResponseStore.DeleteAsync"/> does, so a chain's later turns outlive its
    /// earlier ones whole. Each leaves a tombstone, as a delete does; tombstones of responses that expired more than
    /// <see cref="RetentionService.TombstoneGrace"/> before <paramref name="expiredBefore"/> go, up to
    /// <paramref name="limit"/> of them. True when more may be left.
    /// </summary>
    Task<bool> PurgeAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken);
}
