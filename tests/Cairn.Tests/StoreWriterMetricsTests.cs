using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cairn.Tests;

/// <summary>
/// The group commit's meters, exactly, on writers of each store built alone: the queue's depth while a commit holds
/// it, one batch-size and one duration per commit summing to the writes made, and a commit that fails as a whole.
/// </summary>
public sealed class StoreWriterMetricsTests : IDisposable
{
    private readonly TempFolder folder = new();

    private string SqliteFile => folder.File("m.db");

    private static long Insert(SqliteWriter w, string id)
    {
        var command = w.Command("INSERT INTO completions(id, project_id, model, created, metadata, body) VALUES ($id, 1, 'm', 0, '{}', x'7b7d') RETURNING seq");
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$id", id);
        return (long)command.ExecuteScalar()!;
    }

    private static Task<int> Insert(PostgresWriter writer, long id) =>
        writer.ExecuteAsync("INSERT INTO projects(id, public_id, name, created) VALUES ($1, $2, $2, 0)", id, $"proj_{id}");

    [Fact]
    public async Task Sqlite_WritesQueuedBehindACommit_AreTheQueueDepth_ThenOneBatch()
    {
        var factory = TestStoreMetrics.NewFactory();
        using var measured = new MeterRecorder(factory, MeterRecorder.StoreInstruments);
        using var writer = new SqliteWriter($"Data Source={SqliteFile};Pooling=False", new StorageOptions(), new StoreMetrics(factory, StoreMetrics.Sqlite), NullLogger.Instance);
        using var gate = new ManualResetEventSlim();
        // The writer is idle, so this write is made on the thread that asks (a pool thread here, as for a request).
        var blocker = Task.Run(() => writer.WriteAsync(w => gate.Wait(TimeSpan.FromSeconds(10))));
        await SqliteWriterTests.UntilBusyAsync(writer);
        Assert.Equal(0, measured.Observe("cairn.store.queue.depth")[^1].Value);

        var writes = Enumerable.Range(0, 20).Select(i => writer.WriteAsync(w => Insert(w, $"q-{i}"))).ToList();
        Assert.Equal(20, measured.Observe("cairn.store.queue.depth")[^1].Value);
        gate.Set();
        await blocker;
        await Task.WhenAll(writes);
        await MeterRecorder.UntilAsync(() => measured.Of("cairn.store.commit.duration").Count == 2, "both commits to be recorded");

        Assert.Equal([1, 20], measured.Of("cairn.store.commit.batch_size").Select(m => m.Value));
        Assert.All(measured.Of("cairn.store.commit.duration"), m => Assert.InRange(m.Value, 0, 60));
        Assert.Equal(0, measured.Observe("cairn.store.queue.depth")[^1].Value);
        Assert.Empty(measured.Of("cairn.store.commit.failures"));
    }

    [Fact]
    public async Task Sqlite_ACommitThatCannotBegin_IsCountedAsFailed_WithItsErrorType()
    {
        var factory = TestStoreMetrics.NewFactory();
        using var measured = new MeterRecorder(factory, MeterRecorder.StoreInstruments);
        using var writer = new SqliteWriter($"Data Source={SqliteFile};Pooling=False", new StorageOptions(), new StoreMetrics(factory, StoreMetrics.Sqlite), NullLogger.Instance);
        // Another process holds the file's write lock past the writer's busy timeout (5 s): the whole batch fails.
        using (var other = new SqliteConnection($"Data Source={SqliteFile};Pooling=False"))
        {
            other.Open();
            using var begin = other.CreateCommand();
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();

            await Assert.ThrowsAsync<SqliteException>(() => writer.WriteAsync(w => Insert(w, "locked-out")));
        }
        Assert.Equal(1, await writer.WriteAsync(w => Insert(w, "after")));
        await MeterRecorder.UntilAsync(() => measured.Of("cairn.store.commit.batch_size").Count == 2, "both commits to be recorded");

        var failure = Assert.Single(measured.Of("cairn.store.commit.failures"));
        Assert.Equal(1, failure.Value);
        Assert.Equal(StoreMetrics.Sqlite, failure.Tags["cairn.store"]);
        Assert.Equal(typeof(SqliteException).FullName, failure.Tags["error.type"]);
        Assert.Equal(2, measured.Sum("cairn.store.commit.batch_size"));
    }

    [Fact]
    public async Task Postgres_WritesQueuedBehindACommit_AreTheQueueDepth_ThenOneBatch()
    {
        var factory = TestStoreMetrics.NewFactory();
        using var measured = new MeterRecorder(factory, MeterRecorder.StoreInstruments);
        await using var sources = PostgresConnect.Open(await (await PostgresServer.GetAsync()).CreateDatabaseAsync(), "test");
        await using var writer = new PostgresWriter(sources.Prepared, new StorageOptions(), new StoreMetrics(factory, StoreMetrics.Postgres), NullLogger<PostgresWriter>.Instance);
        using var gate = new ManualResetEventSlim();
        var blocker = writer.WriteAsync(_ => Task.FromResult(gate.Wait(TimeSpan.FromSeconds(10))));
        await MeterRecorder.UntilAsync(() => measured.Observe("cairn.store.queue.depth")[^1].Value == 0, "the first write to be taken");

        var writes = Enumerable.Range(100, 20).Select(id => Insert(writer, id)).ToList();
        Assert.Equal(20, measured.Observe("cairn.store.queue.depth")[^1].Value);
        gate.Set();
        await blocker;
        await Task.WhenAll(writes);
        await MeterRecorder.UntilAsync(() => measured.Of("cairn.store.commit.duration").Count == 2, "both commits to be recorded");

        Assert.Equal([1, 20], measured.Of("cairn.store.commit.batch_size").Select(m => m.Value));
        Assert.All(measured.Of("cairn.store.commit.duration"), m => Assert.InRange(m.Value, 0, 60));
        Assert.All(measured.Of("cairn.store.commit.batch_size"), m => Assert.Equal(StoreMetrics.Postgres, m.Tags["cairn.store"]));
        Assert.Equal(0, measured.Observe("cairn.store.queue.depth")[^1].Value);
        Assert.Empty(measured.Of("cairn.store.commit.failures"));
    }

    [Fact]
    public async Task Postgres_ACommitOnADatabaseThatWentAway_IsCountedAsFailed()
    {
        var factory = TestStoreMetrics.NewFactory();
        using var measured = new MeterRecorder(factory, MeterRecorder.StoreInstruments);
        var connectionString = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        await using var sources = PostgresConnect.Open(connectionString, "test");
        await using var writer = new PostgresWriter(sources.Prepared, new StorageOptions(), new StoreMetrics(factory, StoreMetrics.Postgres), NullLogger<PostgresWriter>.Instance);
        Assert.Equal(1, await Insert(writer, 100));

        var database = new NpgsqlConnectionStringBuilder(connectionString);
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {database.Database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Insert(writer, 101));
        await MeterRecorder.UntilAsync(() => measured.Of("cairn.store.commit.batch_size").Count == 2, "both commits to be recorded");

        var failure = Assert.Single(measured.Of("cairn.store.commit.failures"));
        Assert.Equal(1, failure.Value);
        Assert.Equal(StoreMetrics.Postgres, failure.Tags["cairn.store"]);
        Assert.StartsWith("Npgsql.", (string)failure.Tags["error.type"]!, StringComparison.Ordinal);
    }

    public void Dispose() => folder.Dispose();
}
