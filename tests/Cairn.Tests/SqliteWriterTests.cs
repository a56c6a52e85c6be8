using Cairn.Tests.Infrastructure;
using Cairn.Storage;
using Cairn.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Tests;

/// <summary>The group-commit writer on a real SQLite file: batching, isolation of a failing write, draining.</summary>
public sealed class SqliteWriterTests : IDisposable
{
    private readonly TempFolder folder = new();

    private SqliteWriter NewWriter() =>
        new($"Data Source={folder.File("w.db")};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);

    private static long Insert(SqliteWriter w, string id)
    {
        var command = w.Command("INSERT INTO completions(id, project_id, model, created, metadata, body) VALUES ($id, 1, 'm', 0, '{}', x'7b7d') RETURNING seq");
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$id", id);
        return (long)command.ExecuteScalar()!;
    }

    private static long Count(SqliteWriter w) => (long)w.Command("SELECT count(*) FROM completions").ExecuteScalar()!;

    [Fact]
    public async Task AFailingWrite_InABatch_FailsAlone_AndTheOthersCommit()
    {
        using var writer = NewWriter();
        using var gate = new ManualResetEventSlim();
        var blocker = writer.WriteAsync(w => gate.Wait(TimeSpan.FromSeconds(10)));

        // Queued while the first batch is held open, so these share the next commit.
        var good = Enumerable.Range(0, 20).Select(i => writer.WriteAsync(w => Insert(w, $"id-{i}"))).ToList();
        var duplicate = writer.WriteAsync(w => Insert(w, "id-3"));
        var more = writer.WriteAsync(w => Insert(w, "id-after"));
        gate.Set();
        await blocker;

        await Task.WhenAll(good);
        await more;
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => duplicate);
        Assert.Equal(21, await writer.WriteAsync(Count));
    }

    [Fact]
    public async Task Drain_CommitsEverythingQueued_ThenRefusesNewWrites()
    {
        using var writer = NewWriter();
        var writes = Enumerable.Range(0, 200).Select(i => writer.WriteAsync(w => Insert(w, $"drain-{i}"))).ToList();

        await writer.DrainAsync();

        Assert.All(writes, write => Assert.True(write.IsCompletedSuccessfully));
        Assert.Throws<ObjectDisposedException>(() => { _ = writer.WriteAsync(w => 0); });
    }

    public void Dispose() => folder.Dispose();
}
