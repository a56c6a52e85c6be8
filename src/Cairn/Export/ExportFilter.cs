namespace Cairn.Export;

/// <summary>
/// Which stored objects an export writes: every filter given must match (metadata pairs are ANDed). A null
/// <see cref="ProjectId"/> means every project; <see cref="From"/> is inclusive and <see cref="To"/> exclusive, both
/// compared with a completion's <c>created</c> second or a response's <c>created_at</c>.
/// </summary>
internal sealed record ExportFilter(
    long? ProjectId,
    string? Model,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    DateTimeOffset? From,
    DateTimeOffset? To)
{
    /// <summary>Every stored completion of every project.</summary>
    public static ExportFilter All { get; } = new(null, null, [], null, null);

    /// <summary>The kinds of objects written; stored completions unless set.</summary>
    public ExportObjects Objects { get; init; } = ExportObjects.Completions;

    /// <summary>The filter as the stores read it.</summary>
    internal Storage.CompletionFilter Query => new(ProjectId, Model, Metadata, FromSeconds, ToSeconds);

    /// <summary><see cref="From"/> as the first <c>created</c> second that matches.</summary>
    internal long? FromSeconds => From is { } from ? CeilingSeconds(from) : null;

    /// <summary><see cref="To"/> as the first <c>created</c> second that no longer matches.</summary>
    internal long? ToSeconds => To is { } to ? CeilingSeconds(to) : null;

    // created is a whole second; a bound with a fraction rounds up so that From stays inclusive of what is at or
    // after it and To exclusive of what is at or after it.
    private static long CeilingSeconds(DateTimeOffset time)
    {
        var milliseconds = time.ToUnixTimeMilliseconds();
        return milliseconds / 1000 + (milliseconds % 1000 > 0 ? 1 : 0);
    }
}
