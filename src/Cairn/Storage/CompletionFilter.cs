namespace Cairn.Storage;

/// <summary>
/// Which stored completions a read is about, every filter ANDed: a project (null: every project), the model name
/// clients sent, metadata pairs, and <c>created</c> seconds from <see cref="FromSeconds"/> (inclusive) to
/// <see cref="ToSeconds"/> (exclusive). Exports read it as it is; the dashboard's filter adds search words; the API's
/// list makes one for its project. Each database turns it into SQL in one place (<c>SqliteSql</c>, <c>PostgresSql</c>).
/// </summary>
internal record CompletionFilter(
    long? ProjectId,
    string? Model,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    long? FromSeconds,
    long? ToSeconds);
