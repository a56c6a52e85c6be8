using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// The one connection that writes. Writes queue up while a transaction commits and are then committed together
/// (group commit): one fsync for a whole batch, so storing does not serialize the server. One failing write does
/// not undo the others; every caller learns its outcome only after COMMIT, and with <c>Synchronous=FULL</c> only
/// once the log is on the disk: a second thread syncs it (<see cref="SqliteWalSync"/>) while this one commits the
/// next batch, so the disk's latency no longer stops the writer.
/// </summary>
internal sealed partial class SqliteWriter : IDisposable
{
    // Each queue's one reader is a thread of its own, asleep while the queue is empty.
    private readonly ThreadQueue<WriteOp> queue = new();
    private readonly ThreadQueue<Committed> committed = new();
    private readonly PreparedConnection connection;
    private readonly int maxBatch;
    private readonly ILogger logger;
    private readonly Thread thread;
    private readonly Thread? syncThread;
    private readonly SqliteWalSync? walSync;
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SqliteCheckpointer checkpointer;
    private readonly int cacheKib;
    private int cacheKibNow;
    private int batchesSinceCacheSized;

    public SqliteWriter(string connectionString, StorageOptions options, StoreMetrics metrics, ILogger logger)
    {
        this.logger = logger;
        Metrics = metrics;
        maxBatch = options.MaxBatch;
        var sqlite = new SqliteConnection(connectionString);
        sqlite.Open();
        SqliteSchema.Execute(sqlite, "PRAGMA journal_mode = WAL");
        SqliteSchema.Execute(sqlite, $"PRAGMA synchronous = {options.Synchronous}");
        SqliteSchema.Execute(sqlite, "PRAGMA busy_timeout = 5000");
        SqliteSchema.Execute(sqlite, "PRAGMA wal_autocheckpoint = 0");
        SqliteSchema.Migrate(sqlite);
        walSync = SqliteWalSync.TakeOver(sqlite, options.Synchronous);
        connection = new PreparedConnection(sqlite);
        cacheKib = options.WriteCacheKib;
        SizeCache();
        checkpointer = new SqliteCheckpointer(connectionString, metrics);
        if (walSync is not null)
        {
            syncThread = new Thread(Sync) { IsBackground = true, Name = "cairn-sqlite-sync" };
            syncThread.Start();
        }
        thread = new Thread(Run) { IsBackground = true, Name = "cairn-sqlite-writer" };
        thread.Start();
    }

    /// <summary>The store's instruments, which the stores writing through this writer report to as well.</summary>
    public StoreMetrics Metrics { get; }

    /// <summary>Runs <paramref name="work"/> inside the next group commit; the task completes after COMMIT.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteWriter, T> work)
    {
        var op = new WriteOp<T>(work);
        // Counted before it can be taken, so the depth never reads below zero.
        Metrics.Queued();
        if (!queue.TryAdd(op))
        {
            Metrics.Taken(1);
            throw new ObjectDisposedException(nameof(SqliteWriter), "The store is shutting down.");
        }
        return op.Task;
    }

    /// <summary>A prepared command of the writing connection, made once per SQL text.</summary>
    public SqliteCommand Command(string sql) => connection.Command(sql);

    /// <summary>Stops taking writes, commits every write already queued, and waits for that.</summary>
    public Task DrainAsync()
    {
        queue.Complete();
        return stopped.Task;
    }

    private void Run()
    {
        var batch = new List<WriteOp>(maxBatch);
        try
        {
            while (queue.Take(batch, maxBatch))
            {
                Metrics.Taken(batch.Count);
                if (++batchesSinceCacheSized == CacheSizedEvery)
                {
                    SizeCache();
                }
                var started = Stopwatch.GetTimestamp();
                checkpointer.RestartIfWanted(Command("PRAGMA wal_checkpoint(PASSIVE)"));
                var done = Commit(batch);
                if (walSync is null)
                {
                    Tell(done, started);
                }
                else
                {
                    committed.TryAdd(new Committed(done, started));
                }
                batch.Clear();
            }
        }
        finally
        {
            if (walSync is null)
            {
                stopped.TrySetResult();
            }
            else
            {
                committed.Complete();
            }
        }
    }

    /// <summary>
    /// The sync thread: once per round, one <c>fdatasync</c> of the log for every batch committed since the last,
    /// then their callers are told. Batches are told in the order they committed.
    /// </summary>
    private void Sync()
    {
        var ready = new List<Committed>();
        try
        {
            while (committed.Take(ready, int.MaxValue))
            {
                try
                {
                    walSync!.Flush();
                }
                catch (IOException e)
                {
                    // The frames may not be on the disk, so no caller may hear that they are.
                    LogSyncFailed(logger, e);
                    foreach (var batch in ready)
                    {
                        Metrics.CommitFailed(e);
                        foreach (var op in batch.Writes)
                        {
                            op.FailUnlessFailed(e);
                        }
                    }
                    ready.Clear();
                    continue;
                }
                foreach (var batch in ready)
                {
                    Tell(batch.Writes, batch.Started);
                }
                ready.Clear();
            }
        }
        finally
        {
            stopped.TrySetResult();
        }
    }

    private void Tell(WriteOp[] writes, long started)
    {
        Metrics.Committed(writes.Length, started);
        foreach (var op in writes)
        {
            op.Complete();
        }
    }

    /// <summary>A batch that COMMIT ended (each write with its result or its error), waiting for the log's sync.</summary>
    private readonly record struct Committed(WriteOp[] Writes, long Started);

    /// <summary>Commits the batch; returns its writes, each holding its result or error, for their callers to be told.</summary>
    private WriteOp[] Commit(List<WriteOp> batch)
    {
        // Optimistic: the whole batch in one transaction. A write that throws is taken out with its error and the
        // rest run again from a clean slate, which is safe because a write is a function of what it reads.
        var pending = batch;
        try
        {
            while (pending.Count > 0)
            {
                Command("BEGIN IMMEDIATE").ExecuteNonQuery();
                var failed = pending.FindIndex(op => !op.Execute(this));
                if (failed < 0)
                {
                    Command("COMMIT").ExecuteNonQuery();
                    break;
                }
                Command("ROLLBACK").ExecuteNonQuery();
                pending = [.. pending.Where((_, i) => i != failed)];
            }
        }
        catch (Exception e)
        {
            LogCommitFailed(logger, pending.Count, e);
            Metrics.CommitFailed(e);
            TryRollback();
            foreach (var op in pending)
            {
                op.Fail(e);
            }
        }
        return [.. batch];
    }

    /// <summary>Batches between two looks at the file's size for <see cref="SizeCache"/>.</summary>
    private const int CacheSizedEvery = 1024;

    /// <summary>The writer's page cache while the file is smaller than SQLite's lock-byte page (1 GiB), in KiB.</summary>
    internal const int SmallFileCacheKib = 8192;

    /// <summary>
    /// Gives the page cache its configured size once the file is past 1 GiB, and a small one before. SQLite's B-tree
    /// balancing renumbers pages through the lock-byte page's number (page 262,145 at 4 KiB); in a smaller file that
    /// page lies past the end, and the commit then walks the whole cache to drop it (<c>pcache1TruncateUnsafe</c>):
    /// measured at ~0.4 ms on one commit in eight at saturation with 64 MiB cached. A file that small is in the
    /// system's cache anyway; a larger one keeps its indexes' pages in the big cache, as it was sized for.
    /// </summary>
    private void SizeCache()
    {
        batchesSinceCacheSized = 0;
        var pageSize = (long)Command("PRAGMA page_size").ExecuteScalar()!;
        var pages = (long)Command("PRAGMA page_count").ExecuteScalar()!;
        var lockBytePage = (0x4000_0000 / pageSize) + 1;
        var kib = pages > lockBytePage ? cacheKib : Math.Min(cacheKib, SmallFileCacheKib);
        if (kib != cacheKibNow)
        {
            Command($"PRAGMA cache_size = -{kib}").ExecuteNonQuery();
            cacheKibNow = kib;
        }
    }

    private void TryRollback()
    {
        try
        {
            Command("ROLLBACK").ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // No transaction was open (BEGIN itself failed).
        }
    }

    public void Dispose()
    {
        queue.Complete();
        thread.Join(TimeSpan.FromSeconds(30));
        syncThread?.Join(TimeSpan.FromSeconds(30));
        checkpointer.Dispose();
        connection.Dispose();
        walSync?.Dispose();
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "A group commit of {Count} writes failed; each caller gets an error")]
    private static partial void LogCommitFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Syncing SQLite's write-ahead log to the disk failed; the writes it held get an error")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);

    private abstract class WriteOp
    {
        /// <summary>Runs the work; false when it threw, and the batch is then rolled back and run again without it.</summary>
        public abstract bool Execute(SqliteWriter writer);

        /// <summary>Tells the caller the write's result, or the error it threw.</summary>
        public abstract void Complete();

        /// <summary>Records <paramref name="exception"/> as the write's outcome (its commit failed); told by <see cref="Complete"/>.</summary>
        public abstract void Fail(Exception exception);

        /// <summary>Tells the caller <paramref name="exception"/> unless the write had failed on its own already.</summary>
        public abstract void FailUnlessFailed(Exception exception);
    }

    private sealed class WriteOp<T>(Func<SqliteWriter, T> work) : WriteOp
    {
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? result;
        private Exception? error;

        public Task<T> Task => completion.Task;

        public override bool Execute(SqliteWriter writer)
        {
            try
            {
                result = work(writer);
                return true;
            }
            catch (Exception e)
            {
                error = e;
                return false;
            }
        }

        public override void Complete()
        {
            if (error is null)
            {
                completion.TrySetResult(result!);
            }
            else
            {
                completion.TrySetException(error);
            }
        }

        public override void Fail(Exception exception) => error = exception;

        public override void FailUnlessFailed(Exception exception) => completion.TrySetException(error ?? exception);
    }
}
