namespace Cairn.Tests.Infrastructure;

/// <summary>A real Cairn storing in a fresh database of the test run's PostgreSQL server.</summary>
public class PostgresCairnServer : CairnServer
{
    public string ConnectionString { get; private set; } = "";

    protected override async Task<string[]> StorageArgsAsync()
    {
        ConnectionString = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        return ["--postgres", ConnectionString];
    }
}
