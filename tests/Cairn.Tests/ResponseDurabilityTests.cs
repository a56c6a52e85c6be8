using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using static Cairn.Tests.Infrastructure.ResponseChains;

namespace Cairn.Tests;

/// <summary>
/// An acknowledged response is committed on SQLite: a new connection sees it while the writer still runs, and it is
/// there, chain and all, after the writer is closed and the file opened again.
/// </summary>
public sealed class SqliteResponseDurabilityTests : IDisposable
{
    private readonly TempFolder folder = new();

    private string ConnectionString => $"Data Source={folder.File("responses.db")};Pooling=False";

    [Fact]
    public async Task AnAcknowledgedChain_IsSeenByANewConnectionAtOnce_AndAfterTheStoreIsReopened()
    {
        List<StoredResponse> chain;
        using (var writer = new SqliteWriter(ConnectionString, new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance))
        using (var readers = new SqliteReaders(ConnectionString, 1))
        {
            chain = await new ResponseChains(new SqliteResponseStore(writer, readers)).ChainAsync(3);
            using var fresh = new SqliteReaders(ConnectionString, 1);
            Assert.Equal(Expected(chain), await new ResponseChains(new SqliteResponseStore(writer, fresh)).ContextAsync(chain[^1].Id));
        }

        using (var writer = new SqliteWriter(ConnectionString, new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance))
        using (var readers = new SqliteReaders(ConnectionString, 1))
        {
            var store = new SqliteResponseStore(writer, readers);
            Assert.Equal(chain[^1].Body, await store.GetAsync(Projects.Default, chain[^1].Id, default));
            Assert.Equal(Expected(chain), await new ResponseChains(store).ContextAsync(chain[^1].Id));
            Assert.True(await store.DeleteAsync(Projects.Default, chain[1].Id, default));
            Assert.Equal(ExpectedInput(chain), await new ResponseChains(store).AllInputItemsAsync(chain[^1].Id));
        }
    }

    public void Dispose() => folder.Dispose();
}

/// <summary>
/// An acknowledged response is committed on PostgreSQL: another connection pool sees it at once, and it is there after
/// the writer and its pools are closed and the database opened again.
/// </summary>
public sealed class PostgresResponseDurabilityTests
{
    [Fact]
    public async Task AnAcknowledgedChain_IsSeenByAnotherPoolAtOnce_AndAfterTheStoreIsReopened()
    {
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        List<StoredResponse> chain;
        await using (var sources = PostgresConnect.Open(database, "test"))
        await using (var writer = new PostgresWriter(sources.Prepared, new StorageOptions(), TestStoreMetrics.Postgres(), NullLogger<PostgresWriter>.Instance))
        {
            chain = await new ResponseChains(new PostgresResponseStore(sources, writer)).ChainAsync(3);
            await using var fresh = PostgresConnect.Create(database, "test");
            Assert.Equal(Expected(chain), await new ResponseChains(new PostgresResponseStore(fresh, writer)).ContextAsync(chain[^1].Id));
        }

        await using (var sources = PostgresConnect.Open(database, "test"))
        await using (var writer = new PostgresWriter(sources.Prepared, new StorageOptions(), TestStoreMetrics.Postgres(), NullLogger<PostgresWriter>.Instance))
        {
            var store = new PostgresResponseStore(sources, writer);
            Assert.Equal(chain[^1].Body, await store.GetAsync(Projects.Default, chain[^1].Id, default));
            Assert.Equal(Expected(chain), await new ResponseChains(store).ContextAsync(chain[^1].Id));
            Assert.True(await store.DeleteAsync(Projects.Default, chain[1].Id, default));
            Assert.Equal(ExpectedInput(chain), await new ResponseChains(store).AllInputItemsAsync(chain[^1].Id));
        }
    }
}
