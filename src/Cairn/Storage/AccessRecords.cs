namespace Cairn.Storage;

/// <summary>A project: it owns API keys and stored completions, and carries the rate limits its keys share.</summary>
internal sealed record Project(long Id, string Name, long Created, long? RequestsPerMinute, long? TokensPerMinute);

/// <summary>An API key as stored: never its secret, only the secret's hash and a redacted form to recognise it by.</summary>
internal sealed record ApiKeyRecord(
    string Id, long ProjectId, string Name, string Redacted, byte[] Hash, IReadOnlyList<string>? Models, long Created, long? Revoked);

/// <summary>What a presented key grants: its project (with the project's limits) and the models it may use.</summary>
internal sealed record KeyGrant(string KeyId, byte[] Hash, Project Project, IReadOnlyList<string>? Models);
