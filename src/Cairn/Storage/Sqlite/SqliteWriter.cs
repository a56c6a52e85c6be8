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
/// <remarks>
/// A write that finds the writer idle (nothing queued, committing or syncing) is committed and synced on its caller's
/// thread instead, and its task is complete when <see cref="WriteAsync{T}"/> returns. Handing it to the writer, the
/// writer to the sync thread and that back to the caller wakes three threads per write, each of which may wait for a
/// core on a small machine; at one connection those waits were most of what storing added. Under load writes queue
/// up behind the one being written and go through the threads as before, in group commits.
/// </remarks>
internal sealed partial class SqliteWriter : IDisposable
{
    // Each queue's one reader is a thread of its own, asleep while the queue is empty.
    private readonly ThreadQueue<WriteOp> queue = new();
    private readonly ThreadQueue<Committed> committed = new();

    // Held while the connection writes (a batch on the writer's thread, or one write on its caller's).
    private readonly Lock gate = new();

    // Writes accepted and not yet told: a write finding none is written on its caller's thread.
    private int inFlight;
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

    /// <summary>
    /// Runs <paramref name="work"/> inside the next group commit; the task completes after COMMIT (and the log's sync).
    /// When the writer is idle that commit is made here, on the caller's thread, and the task is complete on return.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteWriter, T> work)
    {
        var op = new WriteOp<T>(work);
        // Counted before it can be taken, so the depth never reads below zero.
        Metrics.Queued();
        if (Interlocked.CompareExchange(ref inFlight, 1, 0) == 0)
        {
            WriteHere(op);
            return op.Task;
        }
        Interlocked.Increment(ref inFlight);
        if (!queue.TryAdd(op))
        {
            Interlocked.Decrement(ref inFlight);
            Metrics.Taken(1);
            throw ShuttingDown();
        }
        return op.Task;
    }

    /// <summary>
    /// Commits and syncs <paramref name="op"/> alone on this thread, the writer having been found idle (<see cref="inFlight"/>
    /// claimed). The connection is let go before the sync, so writes that queued meanwhile commit while it runs, as
    /// behind the writer's own commits; they may be told first, which is safe: their sync covers this write's frames too.
    /// </summary>
    private void WriteHere(WriteOp op)
    {
        try
        {
            Committed written;
            lock (gate)
            {
                Metrics.Taken(1);
                if (queue.IsCompleted)
                {
                    throw ShuttingDown();
                }
                var started = Stopwatch.GetTimestamp();
                var done = Commit([op]);
                if (walSync is null)
                {
                    Tell(done, started);
                    return;
                }
                written = new Committed(done, started);
            }
            SyncAndTell([written]);
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    /// <summary>Whether a write was accepted and its caller not yet told.</summary>
    internal bool Busy => Volatile.Read(ref inFlight) > 0;

    private static ObjectDisposedException ShuttingDown() => new(nameof(SqliteWriter), "The store is shutting down.");

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
            // Writes wait in the queue, where they are counted, until the connection is free: one being written on its
            // caller's thread ends first, and all that queued behind it go into the next batch.
            while (queue.WaitForItems())
            {
                lock (gate)
                {
                    queue.TakeAvailable(batch, maxBatch);
                    Metrics.Taken(batch.Count);
                    var started = Stopwatch.GetTimestamp();
                    var done = Commit(batch);
                    if (walSync is null)
                    {
                        Tell(done, started);
                        Interlocked.Add(ref inFlight, -done.Length);
                    }
                    else
                    {
                        committed.TryAdd(new Committed(done, started));
                    }
                }
                batch.Clear();
            }
        }
        finally
        {
            // A write being made on its caller's thread ends before the writer is done; later ones see the queue closed.
            lock (gate)
            {
            }
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
    /// then their callers are told. Its batches are told in the order they committed (a write made on its caller's
    /// thread is told by that thread, <see cref="WriteHere"/>).
    /// </summary>
    private void Sync()
    {
        var ready = new List<Committed>();
        try
        {
            while (committed.Take(ready, int.MaxValue))
            {
                SyncAndTell(ready);
                Interlocked.Add(ref inFlight, -ready.Sum(batch => batch.Writes.Length));
                ready.Clear();
            }
        }
        finally
        {
            // A write made on its caller's thread may still be syncing; the log's file stays open until it is told.
            SpinWait.SpinUntil(() => Volatile.Read(ref inFlight) == 0, TimeSpan.FromSeconds(30));
            stopped.TrySetResult();
        }
    }

    /// <summary>One <c>fdatasync</c> of the log for <paramref name="ready"/>, then their callers are told, in order.</summary>
    private void SyncAndTell(List<Committed> ready)
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
            return;
        }
        foreach (var batch in ready)
        {
            Tell(batch.Writes, batch.Started);
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
        if (++batchesSinceCacheSized == CacheSizedEvery)
        {
            SizeCache();
        }
        checkpointer.RestartIfWanted(Command("PRAGMA wal_checkpoint(PASSIVE)"));
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
