namespace Cairn.Storage;

/// <summary>
/// A response as stored: the response object's JSON as <c>GET /v1/responses/{id}</c> serves it, this turn's input
/// items and its output items (each with its id, in order), the link to the response it continued, and the columns
/// lists and the dashboard read.
/// </summary>
/// <param name="PreviousResponseId">The response this one continued (<c>previous_response_id</c>), null for a chain's first.</param>
/// <param name="Input">This turn's own input items in request order, in their stored shape (ids given).</param>
/// <param name="Output">The output items in order, as they appear in <paramref name="Body"/>'s <c>output</c>.</param>
internal sealed record StoredResponse(
    long ProjectId,
    string Id,
    string Model,
    long CreatedAt,
    string? PreviousResponseId,
    byte[] Body,
    IReadOnlyList<StoredItem> Input,
    IReadOnlyList<StoredItem> Output,
    IReadOnlyDictionary<string, string> Metadata)
{
    public string? RequestId { get; init; }

    /// <summary>Milliseconds from the request's arrival to its answer being stored (null when unknown, as for imports).</summary>
    public long? LatencyMs { get; init; }

    /// <summary>The W3C trace id of the request that made it, when its trace was recorded (telemetry on, sampled); the dashboard shows it.</summary>
    public string? TraceId { get; init; }

    /// <summary><c>completed</c>, <c>incomplete</c> or <c>failed</c>.</summary>
    public string Status { get; init; } = "completed";

    public int InputTokens { get; init; }
    public int OutputTokens { get; init; }

    /// <summary>
    /// Items stored in front of <see cref="Input"/> (positions below 0, oldest first): the context of a chain this
    /// response no longer links to, as a delete folds it in and an import restores it. Empty for a new response.
    /// </summary>
    public IReadOnlyList<StoredItem> Context { get; init; } = [];

    /// <summary>
    /// The chain as the create read it (<see cref="IResponseStore.GetContextAsync"/> of its previous response). When
    /// that response is gone by the time this one is stored (deleted or expired meanwhile), the store keeps these as
    /// this response's <see cref="Context"/> and clears its link, exactly as if the delete had come after: the turn
    /// keeps the context it was answered with.
    /// </summary>
    public IReadOnlyList<StoredItem> ChainRead { get; init; } = [];
}
