namespace Cairn.Storage;

/// <summary>
/// Whole stored completions read in storage order, a bounded batch at a time, for exports; and which ids a store
/// already holds, for imports. Unlike <see cref="ICompletionStore"/> it can read across projects.
/// </summary>
internal interface ICompletionArchive
{
    /// <summary>
    /// The next at most <paramref name="limit"/> completions matching <paramref name="filter"/> whose seq is above
    /// <paramref name="afterSeq"/>, in storage order, each with its input messages. Fewer than the limit: the end.
    /// </summary>
    Task<IReadOnlyList<ArchivedCompletion>> ReadBatchAsync(CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>How many completions match (what an export will write, for a progress bar).</summary>
    Task<long> CountAsync(CompletionFilter filter, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="ids"/> are stored in any project, or were and have been deleted.</summary>
    Task<IReadOnlySet<string>> TakenIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);
}

/// <summary>A stored completion with everything stored of it: the columns, the stored object and each input message item.</summary>
internal sealed record ArchivedCompletion(long Seq, string Id, long ProjectId, string Model, long Created, byte[] Body, byte[][] Messages);
