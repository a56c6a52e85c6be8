namespace Cairn.Access;

/// <summary>Authentication settings (section <c>Auth</c>).</summary>
internal sealed record AuthOptions
{
    public const string Section = "Auth";

    /// <summary>The environment variable holding the admin key (for <c>/admin</c>); unset: no admin API.</summary>
    public string AdminKeyEnv { get; init; } = "CAIRN_ADMIN_KEY";

    /// <summary>How long a key lookup is remembered: a key revoked by another process stops working within this.</summary>
    public double CacheSeconds { get; init; } = 5;

    /// <summary>Wrong keys one client address may present a minute before its authentications get 429 (0: no limit).</summary>
    public int FailedAttemptsPerMinute { get; init; } = 30;

    public IEnumerable<string> Validate(Func<string, string?> environment)
    {
        if (CacheSeconds is < 0 or > 3600 || double.IsNaN(CacheSeconds))
        {
            yield return $"Auth:CacheSeconds must be between 0 and 3600, not {CacheSeconds}.";
        }
        if (FailedAttemptsPerMinute is < 0 or > 1_000_000)
        {
            yield return $"Auth:FailedAttemptsPerMinute must be between 0 (no limit) and 1000000, not {FailedAttemptsPerMinute}.";
        }
        if (environment(AdminKeyEnv) is { Length: > 0 and < 16 })
        {
            yield return $"{AdminKeyEnv} (the admin key) must be at least 16 characters.";
        }
    }
}
