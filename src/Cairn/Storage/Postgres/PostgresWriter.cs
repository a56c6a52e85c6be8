using System.Data;
using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Group commit on PostgreSQL: writes queue up while a transaction commits and are then committed together, one
/// WAL flush for a whole batch, and a batch of statements alone (nearly every one) in one round trip. A write that
/// fails is taken out and the others run again; a batch that loses a deadlock or a serialization race with another
/// instance runs again whole. Every caller learns its outcome only after COMMIT.
/// </summary>
/// <remarks>
/// The batches of all instances commit one at a time, under a transaction-scoped advisory lock taken before any
/// seq is. Storage order is then commit order, as with SQLite's single writer: a completion can never commit behind
/// one with a higher seq, so a client paging with <c>after</c> never steps past one committed late.
/// </remarks>
internal sealed partial class PostgresWriter : IAsyncDisposable
{
    private const int Attempts = 5;
    private const long CommitOrderLock = 0x43_61_69_72_6E_00_00_02;
    private static readonly string OrderSql = $"SELECT pg_advisory_xact_lock({CommitOrderLock})";
    private readonly Channel<WriteOp> queue = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource dataSource;
    private readonly int maxBatch;
    private readonly ILogger logger;
    private readonly Task loop;

    public PostgresWriter(NpgsqlDataSource dataSource, StorageOptions options, StoreMetrics metrics, ILogger<PostgresWriter> logger)
    {
        this.dataSource = dataSource;
        this.logger = logger;
        Metrics = metrics;
        maxBatch = options.MaxBatch;
        loop = Task.Run(RunAsync);
    }

    /// <summary>The store's instruments, which the stores writing through this writer report to as well.</summary>
    public StoreMetrics Metrics { get; }

    /// <summary>Runs <paramref name="work"/> inside the next group commit; the task completes after COMMIT.</summary>
    public Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> work) => Enqueue(new WorkOp<T>(work));

    /// <summary>
    /// Runs one statement inside the next group commit, sent in one round trip with the statements queued beside it;
    /// the task gives the rows it affected, after COMMIT.
    /// </summary>
    public Task<int> ExecuteAsync(string sql, params object[] parameters) => Enqueue(new StatementOp(sql, parameters));

    private Task<T> Enqueue<T>(WriteOp<T> op)
    {
        // Counted before it can be taken, so the depth never reads below zero.
        Metrics.Queued();
        if (!queue.Writer.TryWrite(op))
        {
            Metrics.Taken(1);
            throw new ObjectDisposedException(nameof(PostgresWriter), "The store is shutting down.");
        }
        return op.Task;
    }

    /// <summary>Stops taking writes, commits every write already queued, and waits for that.</summary>
    public Task DrainAsync()
    {
        queue.Writer.TryComplete();
        return loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteOp>(maxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < maxBatch && queue.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }
            Metrics.Taken(batch.Count);
            // Counted now: the commit takes the writes that fail on their own out of the batch.
            var writes = batch.Count;
            var started = Stopwatch.GetTimestamp();
            await CommitAsync(batch);
            Metrics.Committed(writes, started);
            batch.Clear();
        }
    }

    private async Task CommitAsync(List<WriteOp> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await TryCommitAsync(batch);
                foreach (var op in batch)
                {
                    op.Complete();
                }
                return;
            }
            catch (Exception e) when (attempt < Attempts && IsRace(e))
            {
                // Another instance won a lock race, or the connection dropped: the batch runs again. Had the server
                // committed it just before the connection went (its answer lost), a create runs again as a duplicate
                // and fails, a delete finds nothing: work done but not reported done; nothing acknowledged is lost.
                await Task.Delay(10 * attempt);
            }
            catch (Exception e)
            {
                LogCommitFailed(logger, batch.Count, e);
                Metrics.CommitFailed(e);
                foreach (var op in batch)
                {
                    op.Fail(e);
                }
                return;
            }
        }
    }

    /// <summary>Commits the batch less the writes that fail on their own, which are failed and taken out of it.</summary>
    private async Task TryCommitAsync(List<WriteOp> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var pipeline = int.MaxValue;
        if (batch.TrueForAll(op => op is StatementOp))
        {
            if (await TryStatementsAsync(connection, batch) is not { } error)
            {
                return;
            }
            if (IsRace(error) || connection.State != ConnectionState.Open)
            {
                throw error;
            }
            // Which statement failed is not reported reliably; they run again one at a time below to find it.
            pipeline = 1;
        }
        while (batch.Count > 0)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var order = new NpgsqlCommand(OrderSql, connection))
            {
                await order.ExecuteNonQueryAsync();
            }
            if (await RunAsync(connection, batch, pipeline) is not { } failure)
            {
                await transaction.CommitAsync();
                return;
            }
            if (IsRace(failure.Error))
            {
                throw failure.Error;
            }
            // Optimistic: the one that failed is taken out and the rest run again from a clean slate, which is safe
            // because a write is a function of what it reads. Until it is found, statements go one at a time.
            await transaction.RollbackAsync();
            if (failure.Index < 0)
            {
                pipeline = 1;
                continue;
            }
            batch[failure.Index].Fail(failure.Error);
            batch.RemoveAt(failure.Index);
        }
    }

    /// <summary>
    /// A batch of statements only (creates, deletes, purges: nearly every batch) in one round trip: the commit-order
    /// lock and every statement sent as one <see cref="NpgsqlBatch"/> without BEGIN or COMMIT. PostgreSQL runs the
    /// messages up to the batch's one Sync as a single implicit transaction, committed (and flushed) before it answers,
    /// and rolled back whole at the first error; the lock, transaction-scoped, goes with it. Null once committed.
    /// </summary>
    private static async Task<Exception?> TryStatementsAsync(NpgsqlConnection connection, List<WriteOp> batch)
    {
        await using var statements = new NpgsqlBatch(connection);
        try
        {
            statements.BatchCommands.Add(new NpgsqlBatchCommand(OrderSql));
            foreach (var op in batch)
            {
                statements.BatchCommands.Add(((StatementOp)op).Command());
            }
            await statements.ExecuteNonQueryAsync();
        }
        catch (Exception e)
        {
            return e;
        }
        for (var i = 0; i < batch.Count; i++)
        {
            ((StatementOp)batch[i]).Done(statements.BatchCommands[i + 1].RecordsAffected);
        }
        return null;
    }

    /// <summary>
    /// Runs every write in order, consecutive statements in one round trip (up to <paramref name="pipeline"/> of
    /// them); the first failure, if any, with index -1 when it is one of several statements sent together.
    /// </summary>
    private static async Task<(int Index, Exception Error)?> RunAsync(NpgsqlConnection connection, List<WriteOp> batch, int pipeline)
    {
        for (var i = 0; i < batch.Count;)
        {
            if (batch[i] is not StatementOp)
            {
                try
                {
                    await batch[i].RunAsync(connection);
                }
                catch (Exception e)
                {
                    return (i, e);
                }
                i++;
                continue;
            }
            var first = i;
            await using var statements = new NpgsqlBatch(connection);
            try
            {
                for (; i < batch.Count && i - first < pipeline && batch[i] is StatementOp statement; i++)
                {
                    statements.BatchCommands.Add(statement.Command());
                }
            }
            catch (Exception e)
            {
                return (i, e);
            }
            try
            {
                await statements.ExecuteNonQueryAsync();
            }
            catch (PostgresException e) when (statements.BatchCommands.Count > 1)
            {
                // Which statement failed is not reported reliably; the caller runs them again one at a time.
                return (-1, e);
            }
            catch (Exception e)
            {
                return (first, e);
            }
            for (var j = first; j < i; j++)
            {
                ((StatementOp)batch[j]).Done(statements.BatchCommands[j - first].RecordsAffected);
            }
        }
        return null;
    }

    /// <summary>Not the write's fault: a lost lock race with another instance, or a dropped connection.</summary>
    private static bool IsRace(Exception e) =>
        e is PostgresException { SqlState: "40001" or "40P01" } || (e is NpgsqlException { IsTransient: true } && e is not PostgresException);

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "A group commit of {Count} writes failed; each caller gets an error")]
    private static partial void LogCommitFailed(ILogger logger, int count, Exception exception);

    private abstract class WriteOp
    {
        public virtual Task RunAsync(NpgsqlConnection connection) => Task.CompletedTask;

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private abstract class WriteOp<T> : WriteOp
    {
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected T? Result { get; set; }

        public Task<T> Task => completion.Task;

        public override void Complete() => completion.TrySetResult(Result!);

        public override void Fail(Exception exception) => completion.TrySetException(exception);
    }

    private sealed class WorkOp<T>(Func<NpgsqlConnection, Task<T>> work) : WriteOp<T>
    {
        public override async Task RunAsync(NpgsqlConnection connection) => Result = await work(connection);
    }

    private sealed class StatementOp(string sql, object[] parameters) : WriteOp<int>
    {
        /// <summary>A fresh command each attempt: a batch command belongs to one batch.</summary>
        public NpgsqlBatchCommand Command()
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var value in parameters)
            {
                command.Parameters.Add(value is NpgsqlParameter typed ? typed.Clone() : new NpgsqlParameter { Value = value });
            }
            return command;
        }

        public void Done(int rows) => Result = rows;
    }
}
