namespace Cairn.Storage;

/// <summary>
/// Where and how completions are stored (section <c>Storage</c>; <c>--db</c> sets <c>Storage:Path</c>,
/// <c>--postgres</c> sets <c>Storage:Postgres</c>).
/// </summary>
internal sealed record StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The SQLite file; a relative path is taken from the working directory.</summary>
    public string Path { get; init; } = "cairn.db";

    /// <summary>A PostgreSQL connection string; when set, completions are stored there instead of in <see cref="Path"/>.</summary>
    public string? Postgres { get; init; }

    /// <summary>
    /// The folder of the dashboard's key ring (ASP.NET Core data protection). Unset: <c>&lt;Path&gt;.keys</c> beside the
    /// SQLite file, or <c>cairn.keys</c> in the working directory with PostgreSQL; instances behind one address share one folder.
    /// </summary>
    public string? KeyRingPath { get; init; }

    /// <summary>The key ring's folder, as a full path.</summary>
    public string KeyRingFolder() => System.IO.Path.GetFullPath(
        KeyRingPath is { Length: > 0 } folder ? folder : Postgres is null ? Path + ".keys" : "cairn.keys", Environment.CurrentDirectory);

    /// <summary>Days a stored completion or response is kept (OpenAI keeps both 30); 0 keeps them forever.</summary>
    public double RetentionDays { get; init; } = 30;

    /// <summary>How often expired completions and responses are looked for.</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The most expired completions (or responses) deleted in one transaction, so a purge never holds locks for long.</summary>
    public int PurgeBatch { get; init; } = 200;

    /// <summary>SQLite's <c>synchronous</c> setting: FULL survives power loss, NORMAL only a process crash.</summary>
    public string Synchronous { get; init; } = "FULL";

    /// <summary>The most writes committed in one transaction.</summary>
    public int MaxBatch { get; init; } = 512;

    /// <summary>Open read connections kept for reuse.</summary>
    public int ReadConnections { get; init; } = 8;

    /// <summary>Bytes of the file each read connection maps into memory (SQLite's <c>mmap_size</c>); 0 reads with system calls only.</summary>
    public long ReadMmapBytes { get; init; } = 256L << 20;

    /// <summary>Page cache of each read connection, in KiB (SQLite's <c>cache_size</c>).</summary>
    public int ReadCacheKib { get; init; } = 2048;

    /// <summary>
    /// Page cache of the one writing connection, in KiB (SQLite's <c>cache_size</c>). Each stored completion lands on
    /// pages spread over its indexes (its random id, its metadata pairs); a cache that keeps them saves reading them
    /// back for every insert once the store outgrows SQLite's 2 MiB default.
    /// </summary>
    public int WriteCacheKib { get; init; } = 65536;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            yield return "Storage:Path must name a file.";
        }
        if (Synchronous is not ("FULL" or "NORMAL" or "EXTRA"))
        {
            yield return $"Storage:Synchronous must be FULL, NORMAL or EXTRA, not '{Synchronous}'.";
        }
        if (MaxBatch is < 1 or > 100_000)
        {
            yield return $"Storage:MaxBatch must be between 1 and 100000, not {MaxBatch}.";
        }
        if (ReadMmapBytes is < 0 or > (1L << 40))
        {
            yield return $"Storage:ReadMmapBytes must be between 0 and 1 TiB, not {ReadMmapBytes}.";
        }
        if (ReadCacheKib is < 0 or > (1 << 22))
        {
            yield return $"Storage:ReadCacheKib must be between 0 and 4194304, not {ReadCacheKib}.";
        }
        if (WriteCacheKib is < 0 or > (1 << 22))
        {
            yield return $"Storage:WriteCacheKib must be between 0 and 4194304, not {WriteCacheKib}.";
        }
        if (RetentionDays is < 0 or > 36_500 || double.IsNaN(RetentionDays))
        {
            yield return $"Storage:RetentionDays must be between 0 (keep forever) and 36500, not {RetentionDays}.";
        }
        if (PurgeInterval < TimeSpan.FromMilliseconds(10) || PurgeInterval > TimeSpan.FromDays(1))
        {
            yield return $"Storage:PurgeInterval must be between 00:00:00.01 and 1.00:00:00, not {PurgeInterval}.";
        }
        if (PurgeBatch is < 1 or > 10_000)
        {
            yield return $"Storage:PurgeBatch must be between 1 and 10000, not {PurgeBatch}.";
        }
        if (Postgres is not null && string.IsNullOrWhiteSpace(Postgres))
        {
            yield return "Storage:Postgres must be a PostgreSQL connection string (Host=...;Database=...;Username=...).";
        }
        if (KeyRingPath is not null && string.IsNullOrWhiteSpace(KeyRingPath))
        {
            yield return "Storage:KeyRingPath must name a folder.";
        }
        if (ReadConnections is < 1 or > 256)
        {
            yield return $"Storage:ReadConnections must be between 1 and 256, not {ReadConnections}.";
        }
    }
}
