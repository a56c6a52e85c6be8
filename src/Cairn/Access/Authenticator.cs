using Cairn.Storage;
using System.Security.Cryptography;
using Microsoft.Extensions.Caching.Memory;

namespace Cairn.Access;

/// <summary>
/// Tells who a key belongs to. Lookups go by the SHA-256 of the presented secret (an index lookup, the same work
/// whether or not the key exists) and are remembered for <see cref="AuthOptions.CacheSeconds"/>, misses included, in a
/// cache of at most <see cref="CacheEntries"/> (the least recently used go first). Authentication is on once any key
/// exists or an admin key is set, and never turns off while running.
/// </summary>
internal sealed class Authenticator : IDisposable
{
    private const int CacheEntries = 10_000;
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(2);

    private readonly IAccessStore store;
    private readonly TimeProvider clock;
    private readonly TimeSpan cacheFor;
    private readonly byte[]? adminHash;
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = CacheEntries });
    private volatile bool keysExist;
    private DateTimeOffset checkedAt = DateTimeOffset.MinValue;

    public Authenticator(IAccessStore store, AuthOptions options, TimeProvider clock, Func<string, string?> environment)
    {
        this.store = store;
        this.clock = clock;
        cacheFor = TimeSpan.FromSeconds(options.CacheSeconds);
        adminHash = environment(options.AdminKeyEnv) is { Length: > 0 } admin ? ApiKeys.Hash(admin) : null;
    }

    public bool HasAdminKey => adminHash is not null;

    /// <summary>Whether the addresses Kestrel bound were checked after start (<see cref="AuthStartup"/>); until then nothing is served.</summary>
    public bool ListeningChecked
    {
        get => listeningChecked;
        set => listeningChecked = value;
    }

    private volatile bool listeningChecked;

    /// <summary>Whether requests must carry a key: some key exists (checked again every few seconds until one does) or an admin key is set.</summary>
    public async ValueTask<bool> IsOnAsync(CancellationToken cancellationToken)
    {
        if (keysExist || adminHash is not null)
        {
            return true;
        }
        var now = clock.GetUtcNow();
        if (now - checkedAt >= RecheckEvery)
        {
            checkedAt = now;
            keysExist = await store.AnyKeysAsync(cancellationToken);
        }
        return keysExist;
    }

    /// <summary>Forgets what it remembered (after a key is created or revoked here).</summary>
    public void Changed()
    {
        cache.Clear();
        checkedAt = DateTimeOffset.MinValue;
    }

    public void Dispose() => cache.Dispose();

    public bool IsAdmin(string secret) => adminHash is not null && CryptographicOperations.FixedTimeEquals(ApiKeys.Hash(secret), adminHash);

    /// <summary>Whether a hash is the admin key's (the dashboard's session keeps the hash, never the key).</summary>
    public bool IsAdminHash(byte[] hash) => adminHash is not null && CryptographicOperations.FixedTimeEquals(hash, adminHash);

    public async ValueTask<KeyGrant?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = ApiKeys.Hash(secret);
        var slot = Convert.ToHexString(hash);
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(slot, out (KeyGrant? Grant, DateTimeOffset Until) remembered) && remembered.Until > now)
        {
            return remembered.Grant;
        }
        var grant = await store.FindKeyAsync(hash, cancellationToken);
        if (grant is not null && !CryptographicOperations.FixedTimeEquals(grant.Hash, hash))
        {
            grant = null;
        }
        if (cacheFor > TimeSpan.Zero)
        {
            // Expiry is checked against the injected clock above; the cache's own clock only reclaims the memory.
            cache.Set(slot, (grant, now + cacheFor), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = cacheFor });
        }
        return grant;
    }
}
