namespace Abuse;

/// <summary>One worst case: what it sends, its cap in seconds (past it the case reads "> cap" and the server is
/// restarted), and how it runs against a server.</summary>
internal sealed record Case(string Id, string Scenario, string Request, int CapSeconds, Func<CaseContext, CancellationToken, Task<Result>> Run)
{
    /// <summary>Runs on the previous case's server and store (c2 lists what c1 stored); skipped when that server did not stay clean.</summary>
    public bool SameServer { get; init; }

    /// <summary>Runs Cairn commands on the fresh store before the server starts; returns the API key requests send.</summary>
    public Func<Settings, string, Task<string?>>? Prepare { get; init; }
}

/// <summary>What a case saw. <see cref="LeavesServerBusy"/>: the next case gets a fresh server.</summary>
internal sealed record Result(string Outcome)
{
    public long? ResponseBytes { get; init; }
    public long? StoredBytes { get; init; }
    public bool LeavesServerBusy { get; init; }
}

/// <summary>One line of the report.</summary>
internal sealed record Row(Case Case, string Outcome, double? WallSeconds = null, double? CpuSeconds = null, double? PeakMib = null,
    double? RssBeforeMib = null, long? ResponseBytes = null, long? StoredBytes = null);

/// <summary>What a case works with: the server under test, an HTTP client, the fake upstream, the settings.</summary>
internal sealed class CaseContext(CairnServer server, Client client, Settings settings)
{
    public CairnServer Server => server;
    public Settings Settings => settings;
    public Uri Completions => new(server.Url, "/v1/chat/completions");

    public Task<Reply> PostAsync(byte[] body, TimeSpan limit, CancellationToken cancellationToken) =>
        client.PostAsync(Completions, body, server.ApiKey, limit, cancellationToken);

    public Task<Reply> GetAsync(string pathAndQuery, TimeSpan limit, CancellationToken cancellationToken) =>
        client.GetAsync(new Uri(server.Url, pathAndQuery), server.ApiKey, limit, cancellationToken);

    /// <summary>The server's CPU seconds so far (the last known figure once it is gone).</summary>
    public double Cpu() => Proc.CpuSeconds(server.Pid) ?? double.NaN;

    /// <summary>The store's size on disk: the SQLite file and its write-ahead log.</summary>
    public long StoreBytes() => Size(server.Db) + Size(server.Db + "-wal");

    private static long Size(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
}
