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

    [Fact]
    public async Task UnderSustainedWrites_TheLogStartsOver_InsteadOfGrowingWithoutEnd()
    {
        using var writer = NewWriter();
        var log = new FileInfo(folder.File("w.db") + "-wal");
        var body = new byte[60_000];
        Random.Shared.NextBytes(body);
        long written = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        // A writer that never pauses, as under load: each round queues the next writes before the last commit is told.
        var next = 0;
        // How often it restarts depends on the checkpoints' timing (every 250 ms), so it writes at least four times the
        // pages after which a restart is due, and on until the log has started over twice or 20 s have passed.
        while ((written < 4L * SqliteCheckpointer.RestartFrames * 4096 || Restarts(log) < 2) && DateTime.UtcNow < deadline)
        {
            var round = Enumerable.Range(0, 32).Select(_ => writer.WriteAsync(w =>
            {
                var command = w.Command("INSERT INTO completions(id, project_id, model, created, metadata, body) VALUES ($id, 1, 'm', 0, '{}', $body)");
                command.Parameters.Clear();
                command.Parameters.AddWithValue("$id", $"big-{Interlocked.Increment(ref next)}");
                command.Parameters.AddWithValue("$body", body);
                return command.ExecuteNonQuery();
            })).ToList();
            await Task.WhenAll(round);
            written += round.Count * body.Length;
        }

        Assert.True(written >= 4L * SqliteCheckpointer.RestartFrames * 4096, $"only {written} bytes written in 20 s");
        Assert.True(Restarts(log) >= 2, $"the log never started over: {new FileInfo(log.FullName).Length} bytes after {written} written");
    }

    /// <summary>
    /// How many times the log has started over: its header's checkpoint sequence (bytes 12-15, big-endian); a log
    /// that grew without end would still be on its first.
    /// </summary>
    private static uint Restarts(FileInfo log)
    {
        var header = new byte[32];
        using var file = new FileStream(log.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return file.Read(header) < header.Length ? 0 : System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12));
    }

    [Fact]
    public async Task FullSynchronous_IsKeptBySyncingTheLogBesideTheWriter()
    {
        using (var full = NewWriter())
        {
            // On Linux SQLite's own setting is NORMAL: COMMIT writes the log, and the sync thread makes it durable
            // (fdatasync) before callers hear. Elsewhere SQLite syncs inside COMMIT (FULL, 2).
            Assert.Equal(OperatingSystem.IsLinux() ? 1L : 2L, await full.WriteAsync(w => (long)w.Command("PRAGMA synchronous").ExecuteScalar()!));
            Assert.Equal(1L, await full.WriteAsync(w => Insert(w, "synced")));
        }
        using var extra = new SqliteWriter($"Data Source={folder.File("w.db")};Pooling=False", new StorageOptions { Synchronous = "EXTRA" },
            TestStoreMetrics.Sqlite(), NullLogger.Instance);
        Assert.Equal(3L, await extra.WriteAsync(w => (long)w.Command("PRAGMA synchronous").ExecuteScalar()!));
        Assert.Equal(1L, await extra.WriteAsync(Count));
    }

    public void Dispose() => folder.Dispose();
}
