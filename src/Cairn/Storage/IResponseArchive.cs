namespace Cairn.Storage;

/// <summary>
/// Stored responses read in storage order, a bounded batch at a time, with their items and chains, for exports; and
/// which ids a store holds or held, for imports. Unlike <see cref="IResponseStore"/> it reads across projects. The
/// filter is the completions' one, compared with a response's columns (<c>created_at</c> for the time range); a
/// response continues another only within its project.
/// </summary>
internal interface IResponseArchive
{
    /// <summary>
    /// The next at most <paramref name="limit"/> responses matching <paramref name="filter"/> whose seq is above
    /// <paramref name="afterSeq"/>, in storage order, without their items. Fewer than the limit: the end.
    /// </summary>
    Task<IReadOnlyList<ArchivedResponse>> ReadBatchAsync(CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// How many responses match (what an export writes, for a progress bar); with <paramref name="chainEnds"/>, only
    /// those that no matching response continues.
    /// </summary>
    Task<long> CountAsync(CompletionFilter filter, bool chainEnds, CancellationToken cancellationToken);

    /// <summary>
    /// In one query, the items of each response of <paramref name="own"/> (its own only) and of <paramref name="chains"/>
    /// (its whole chain: every response it continued, then itself), by the response's seq, oldest first.
    /// </summary>
    Task<IReadOnlyDictionary<long, IReadOnlyList<ArchivedItem>>> ReadItemsAsync(
        IReadOnlyCollection<long> own, IReadOnlyCollection<long> chains, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="ids"/> are stored, each with its project.</summary>
    Task<IReadOnlyDictionary<string, long>> FindAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="ids"/> were stored and have been deleted or have expired, each with its project.</summary>
    Task<IReadOnlyDictionary<string, long>> FindDeletedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);
}

/// <summary>
/// A stored response's columns and object. <see cref="PreviousResponseId"/> is the link its chain is read by (null when
/// it starts a chain, or when the response it continued was deleted and that context folded into its items).
/// </summary>
/// <param name="ContinuesKept">It continues a response that matches the same filter (which an export writes before it).</param>
/// <param name="ContinuedByKept">A response that matches the same filter continues it: it is not the end of its chain in the export.</param>
internal sealed record ArchivedResponse(
    long Seq, string Id, long ProjectId, string Model, long CreatedAt, string? PreviousResponseId, string? RequestId, byte[] Body,
    bool ContinuesKept, bool ContinuedByKept);

/// <summary>
/// A stored item of a chain: how many responses back it was stored (0: the response asked about), its position there
/// (below 0: context folded in front of the input), whether it is an output item, and its id and JSON.
/// </summary>
internal sealed record ArchivedItem(int Depth, int Position, bool Output, StoredItem Item)
{
    /// <summary>One of the response's own input items (not context folded in front of them, not output).</summary>
    public bool OwnInput => Depth == 0 && Position >= 0 && !Output;
}
