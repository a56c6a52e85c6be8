using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cairn.Tests;

/// <summary>The group-commit writer on a real PostgreSQL database: pipelined statements, a failing write isolated, draining.</summary>
public sealed class PostgresWriterTests
{
    private static async Task<(PostgresDataSources Sources, PostgresWriter Writer)> NewWriterAsync()
    {
        var sources = PostgresConnect.Open(await (await PostgresServer.GetAsync()).CreateDatabaseAsync(), "test");
        return (sources, new PostgresWriter(sources.Prepared, new StorageOptions(), TestStoreMetrics.Postgres(), NullLogger<PostgresWriter>.Instance));
    }

    private static Task<int> Insert(PostgresWriter writer, long id) =>
        writer.ExecuteAsync("INSERT INTO projects(id, public_id, name, created) VALUES ($1, $2, $2, 0)", id, $"proj_{id}");

    private static async Task<long> CountAsync(PostgresDataSources sources)
    {
        await using var count = sources.Unprepared.CreateCommand("SELECT count(*) FROM projects");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task AFailingWrite_InABatch_FailsAlone_AndTheOthersCommit()
    {
        var (sources, writer) = await NewWriterAsync();
        await using var disposeSources = sources;
        await using var disposeWriter = writer;
        using var gate = new ManualResetEventSlim();
        var blocker = writer.WriteAsync(_ => Task.FromResult(gate.Wait(TimeSpan.FromSeconds(10))));

        // Queued while the first batch is held open, so these share the next commit.
        var good = Enumerable.Range(100, 20).Select(id => Insert(writer, id)).ToList();
        var duplicate = Insert(writer, 103);
        var work = writer.WriteAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM projects", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        });
        var more = Insert(writer, 200);
        gate.Set();
        await blocker;

        Assert.All(await Task.WhenAll(good), rows => Assert.Equal(1, rows));
        Assert.Equal(1, await more);
        Assert.Equal("23505", (await Assert.ThrowsAsync<PostgresException>(() => duplicate)).SqlState);
        Assert.Equal(21, await work);
        Assert.Equal(22, await CountAsync(sources));
    }

    [Fact]
    public async Task AFailingStatement_InABatchOfStatementsOnly_FailsAlone_AndTheOthersCommit()
    {
        var (sources, writer) = await NewWriterAsync();
        await using var disposeSources = sources;
        await using var disposeWriter = writer;
        using var gate = new ManualResetEventSlim();
        var blocker = writer.WriteAsync(_ => Task.FromResult(gate.Wait(TimeSpan.FromSeconds(10))));

        // The next batch is statements only, which go in one round trip as one implicit transaction.
        var before = Enumerable.Range(100, 10).Select(id => Insert(writer, id)).ToList();
        var duplicate = Insert(writer, 104);
        var after = Enumerable.Range(110, 10).Select(id => Insert(writer, id)).ToList();
        gate.Set();
        await blocker;

        Assert.All(await Task.WhenAll([.. before, .. after]), rows => Assert.Equal(1, rows));
        Assert.Equal("23505", (await Assert.ThrowsAsync<PostgresException>(() => duplicate)).SqlState);
        Assert.Equal(21, await CountAsync(sources));
    }

    [Fact]
    public async Task ABatchOfStatements_IsCommittedWhenItsWritesComplete_AndLeavesNoLockHeld()
    {
        var (sources, writer) = await NewWriterAsync();
        await using var disposeSources = sources;
        await using var disposeWriter = writer;
        await using var other = await sources.Unprepared.OpenConnectionAsync();

        var writes = Enumerable.Range(100, 50).Select(id => Insert(writer, id)).ToList();
        for (var i = 0; i < writes.Count; i++)
        {
            await writes[i];
            // Complete means committed: another connection sees it at once.
            await using var seen = new NpgsqlCommand("SELECT count(*) FROM projects WHERE id = $1", other);
            seen.Parameters.AddWithValue(100L + i);
            Assert.Equal(1L, await seen.ExecuteScalarAsync());
        }
        await using var locks = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", other);

        Assert.Equal(0L, await locks.ExecuteScalarAsync());
        Assert.Equal(51, await CountAsync(sources));
    }

    [Fact]
    public async Task Drain_CommitsEverythingQueued_ThenRefusesNewWrites()
    {
        var (sources, writer) = await NewWriterAsync();
        await using var disposeSources = sources;
        await using var disposeWriter = writer;
        var writes = Enumerable.Range(100, 200).Select(id => Insert(writer, id)).ToList();

        await writer.DrainAsync();

        Assert.All(writes, write => Assert.True(write.IsCompletedSuccessfully));
        Assert.Equal(201, await CountAsync(sources));
        Assert.Throws<ObjectDisposedException>(() => { _ = Insert(writer, 1000); });
    }
}
