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
        // The writer is idle, so this write is made on the thread that asks: a pool thread, as for a request.
        var blocker = Task.Run(() => writer.WriteAsync(w => gate.Wait(TimeSpan.FromSeconds(10))));
        await UntilBusyAsync(writer);

        // Queued while the first write is held open, so these share the next commit.
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

    [Fact]
    public async Task AWrite_FindingTheWriterIdle_IsMadeOnTheCallersThread_AndCompleteOnReturn()
    {
        using var writer = NewWriter();
        var caller = Environment.CurrentManagedThreadId;

        var write = writer.WriteAsync(w => (Thread: Environment.CurrentManagedThreadId, Seq: Insert(w, "here")));

        Assert.True(write.IsCompletedSuccessfully);
        Assert.Equal((caller, 1L), await write);
    }

    [Fact]
    public async Task ManyCallersAtOnce_EveryAcknowledgedWrite_IsCommitted_VisibleAtOnce_AndInSeqOrderOfItsCaller()
    {
        // Callers racing for an idle writer: some writes are made on their callers' threads, the rest queue up and go
        // through the writer and the sync thread. Whichever way, an acknowledged write is there to read.
        using var writer = NewWriter();
        using var readers = new SqliteReaders($"Data Source={folder.File("w.db")};Pooling=False;Mode=ReadOnly", 4);
        var callers = Enumerable.Range(0, 6).Select(caller => Task.Run(async () =>
        {
            var seqs = new List<long>();
            for (var i = 0; i < 150; i++)
            {
                var id = $"c{caller}-{i}";
                seqs.Add(await writer.WriteAsync(w => Insert(w, id)));
                Assert.Equal(1L, readers.Read(session =>
                {
                    var read = session.Command("SELECT count(*) FROM completions WHERE id = $id");
                    read.Parameters.Clear();
                    read.Parameters.AddWithValue("$id", id);
                    return (long)read.ExecuteScalar()!;
                }, CancellationToken.None));
                if (i % 10 == 0)
                {
                    await Task.Yield();
                }
            }
            return seqs;
        })).ToList();

        var all = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.All(all, seqs => Assert.Equal(seqs.Order(), seqs));
        Assert.Equal(900, all.SelectMany(seqs => seqs).Distinct().Count());
        Assert.Equal(900L, await writer.WriteAsync(Count));
    }

    /// <summary>Waits until the writer holds a write (its caller's thread is inside it).</summary>
    internal static async Task UntilBusyAsync(SqliteWriter writer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!writer.Busy && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
        Assert.True(writer.Busy);
    }

    public void Dispose() => folder.Dispose();
}
