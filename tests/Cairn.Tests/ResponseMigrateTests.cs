using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Cairn.Tests.Infrastructure.ResponseChains;

namespace Cairn.Tests;

/// <summary><c>cairn migrate</c> copies stored responses with their chains and tombstones, resumes after an interruption, and PostgreSQL goes on from there.</summary>
public sealed class ResponseMigrateTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task Migrate_CopiesResponsesTheirChainsAndTombstones_Resumes_AndNewResponsesContinueThem()
    {
        var file = folder.File("responses.db");
        List<StoredResponse> chain;
        StoredResponse alone, newest;
        using (var writer = new SqliteWriter($"Data Source={file};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance))
        using (var readers = new SqliteReaders($"Data Source={file};Pooling=False", 1))
        {
            var sqlite = new SqliteResponseStore(writer, readers);
            chain = await new ResponseChains(sqlite).ChainAsync(4);
            alone = await new ResponseChains(sqlite).AddAsync(Turn("alone", previous: null));
            // A deleted response: its child carries its context folded in, and its seq is never given again.
            Assert.True(await sqlite.DeleteAsync(Projects.Default, chain[1].Id, default));
            newest = await new ResponseChains(sqlite).AddAsync(Turn("newest", previous: null));
            Assert.True(await sqlite.DeleteAsync(Projects.Default, newest.Id, default));
        }
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        var first = await CairnCommand.RunAsync("migrate", "--from", file, "--to", database);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var interrupted = new NpgsqlCommand("""
                DELETE FROM response_items WHERE seq > 2; DELETE FROM response_previews WHERE seq > 2;
                DELETE FROM response_metadata WHERE seq > 2; DELETE FROM responses WHERE seq > 2;
                """, connection);
            await interrupted.ExecuteNonQueryAsync();
        }
        var resumed = await CairnCommand.RunAsync("migrate", "--from", file, "--to", database);

        Assert.True(first.Exit == 0, first.Stderr);
        Assert.Contains("4 responses copied", first.Stderr, StringComparison.Ordinal);
        Assert.True(resumed.Exit == 0, resumed.Stderr);
        Assert.Contains("3 responses copied", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains("every count matches", resumed.Stderr, StringComparison.Ordinal);

        await using var sources = PostgresConnect.Open(database, "test");
        await using var postgresWriter = new PostgresWriter(sources.Prepared, new StorageOptions(), TestStoreMetrics.Postgres(), NullLogger<PostgresWriter>.Instance);
        var postgres = new PostgresResponseStore(sources, postgresWriter);
        var chains = new ResponseChains(postgres);
        var next = await chains.AddAsync(Turn("next", previous: chain[^1].Id));

        Assert.Equal(alone.Body, await postgres.GetAsync(Projects.Default, alone.Id, default));
        Assert.Null(await postgres.GetAsync(Projects.Default, chain[1].Id, default));
        Assert.Equal(Expected([.. chain, next]), await chains.ContextAsync(next.Id));
        // The deleted responses' tombstones came along: an import skips them and their ids are never stored again.
        Assert.Equal(new Dictionary<string, long> { [chain[1].Id] = Projects.Default, [newest.Id] = Projects.Default },
            await postgres.FindDeletedAsync([chain[1].Id, newest.Id, alone.Id], default));
        await Assert.ThrowsAsync<PostgresException>(() => postgres.AddAsync(newest, default));
        Assert.Equal(ExpectedInput(chain[..3]), await chains.AllInputItemsAsync(chain[2].Id));
        // The dashboard's rows came along: a metadata pair finds its response, in the first chunk and the resumed one.
        foreach (var turn in new[] { chain[0], alone })
        {
            var found = await postgres.ListAsync(new ResponseFilter(Projects.Default, null, KeyValuePair.Create("turn", turn.Metadata["turn"])), PageCursor.Newest, 10, default);
            Assert.Equal([turn.Id], found.Rows.Select(r => r.Id));
        }
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var seqs = new NpgsqlCommand("SELECT seq FROM responses ORDER BY seq", connection);
            await using var reader = await seqs.ExecuteReaderAsync();
            var stored = new List<long>();
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetInt64(0));
            }
            Assert.Equal([1L, 3, 4, 5, 7], stored);
        }
    }

    public void Dispose() => folder.Dispose();
}
