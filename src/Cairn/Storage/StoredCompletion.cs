namespace Cairn.Storage;

/// <summary>
/// A completion as stored: the stored object's JSON and each input message's JSON item, serialized once at store
/// time so reads write bytes, plus the columns lists filter on.
/// </summary>
internal sealed record StoredCompletion(
    long ProjectId,
    string Id,
    string Model,
    long Created,
    byte[] Body,
    IReadOnlyDictionary<string, string> Metadata,
    byte[][] Messages)
{
    /// <summary>Milliseconds from the request's arrival to its answer being stored (null when unknown, as for imports); shown by the dashboard.</summary>
    public long? LatencyMs { get; init; }

    /// <summary>The W3C trace id of the request that made it, when its trace was recorded (telemetry on, sampled); the dashboard shows it.</summary>
    public string? TraceId { get; init; }

    /// <summary>
    /// The dashboard's view of it, made from the typed completion where it was built (a create, an import); null
    /// when only bytes were given, and then <see cref="CompletionSummary.Of(StoredCompletion)"/> reads them.
    /// </summary>
    public CompletionSummary? Summary { get; init; }
}
