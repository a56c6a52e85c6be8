namespace Cairn.Storage;

/// <summary>Projects and API keys, in the same store as the completions (so that several instances share them).</summary>
internal interface IAccessStore
{
    /// <summary>The project of that name, created (without limits) if there is none yet.</summary>
    Task<Project> EnsureProjectAsync(string name, CancellationToken cancellationToken);

    Task<Project?> FindProjectAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken cancellationToken);

    /// <summary>Sets a project's limits (null: none). Null when there is no such project.</summary>
    Task<Project?> SetLimitsAsync(string name, long? requestsPerMinute, long? tokensPerMinute, CancellationToken cancellationToken);

    Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(long? projectId, CancellationToken cancellationToken);

    /// <summary>Marks a key revoked; false when there is no such key or it already was.</summary>
    Task<bool> RevokeKeyAsync(string keyId, long revoked, CancellationToken cancellationToken);

    /// <summary>The unrevoked key with this secret hash, with its project; null when there is none.</summary>
    Task<KeyGrant?> FindKeyAsync(byte[] hash, CancellationToken cancellationToken);

    /// <summary>Whether any key was ever created (revoked ones count: authentication, once on, stays on).</summary>
    Task<bool> AnyKeysAsync(CancellationToken cancellationToken);
}
