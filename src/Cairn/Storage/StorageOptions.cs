namespace Cairn.Storage;

/// <summary>Where and how completions are stored (section <c>Storage</c>; <c>--db</c> sets <c>Storage:Path</c>).</summary>
internal sealed record StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The SQLite file; a relative path is taken from the working directory.</summary>
    public string Path { get; init; } = "cairn.db";

    /// <summary>SQLite's <c>synchronous</c> setting: FULL survives power loss, NORMAL only a process crash.</summary>
    public string Synchronous { get; init; } = "FULL";

    /// <summary>The most writes committed in one transaction.</summary>
    public int MaxBatch { get; init; } = 512;

    /// <summary>Open read connections kept for reuse.</summary>
    public int ReadConnections { get; init; } = 8;

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
        if (ReadConnections is < 1 or > 256)
        {
            yield return $"Storage:ReadConnections must be between 1 and 256, not {ReadConnections}.";
        }
    }
}
