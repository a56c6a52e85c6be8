using System.Threading.Channels;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Group commit on PostgreSQL: writes queue up while a transaction commits and are then committed together, one
/// WAL flush for a whole batch. A write that fails is taken out and the others run again; a batch that loses a
/// deadlock or a serialization race with another instance runs again whole. Every caller learns its outcome only
/// after COMMIT.
/// </summary>
internal sealed partial class PostgresWriter : IAsyncDisposable
{
    private const int Attempts = 5;
    private readonly Channel<WriteOp> queue = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource dataSource;
    private readonly int maxBatch;
    private readonly ILogger logger;
    private readonly Task loop;

    public PostgresWriter(NpgsqlDataSource dataSource, StorageOptions options, ILogger<PostgresWriter> logger)
    {
        this.dataSource = dataSource;
        this.logger = logger;
        maxBatch = options.MaxBatch;
        loop = Task.Run(RunAsync);
    }

    /// <summary>Runs <paramref name="work"/> inside the next group commit; the task completes after COMMIT.</summary>
    public Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> work)
    {
        var op = new WriteOp<T>(work);
        if (!queue.Writer.TryWrite(op))
        {
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
            await CommitAsync(batch);
            batch.Clear();
        }
    }

    private async Task CommitAsync(List<WriteOp> batch)
    {
        var pending = batch;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                pending = await TryCommitAsync(pending);
                foreach (var op in pending)
                {
                    op.Complete();
                }
                return;
            }
            catch (Exception e) when (attempt < Attempts && IsRace(e))
            {
                // Another instance won a lock race, or the connection dropped before COMMIT was sent: nothing of
                // this batch is committed, so it runs again.
                await Task.Delay(10 * attempt);
            }
            catch (Exception e)
            {
                LogCommitFailed(logger, pending.Count, e);
                foreach (var op in pending)
                {
                    op.Fail(e);
                }
                return;
            }
        }
    }

    /// <summary>Commits the batch less the writes that fail on their own; returns the writes that are committed.</summary>
    private async Task<List<WriteOp>> TryCommitAsync(List<WriteOp> pending)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        while (pending.Count > 0)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            var failed = -1;
            for (var i = 0; i < pending.Count && failed < 0; i++)
            {
                if (!await pending[i].ExecuteAsync(connection))
                {
                    failed = i;
                }
            }
            if (failed < 0)
            {
                await transaction.CommitAsync();
                return pending;
            }
            if (pending[failed].Error is { } error && IsRace(error))
            {
                throw error;
            }
            await transaction.RollbackAsync();
            pending[failed].Complete();
            pending = [.. pending.Where((_, i) => i != failed)];
        }
        return pending;
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
        public Exception? Error { get; protected set; }

        /// <summary>Runs the work; false when it threw and the transaction must be rolled back.</summary>
        public abstract Task<bool> ExecuteAsync(NpgsqlConnection connection);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class WriteOp<T>(Func<NpgsqlConnection, Task<T>> work) : WriteOp
    {
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? result;

        public Task<T> Task => completion.Task;

        public override async Task<bool> ExecuteAsync(NpgsqlConnection connection)
        {
            Error = null;
            try
            {
                result = await work(connection);
                return true;
            }
            catch (Exception e)
            {
                Error = e;
                return false;
            }
        }

        public override void Complete()
        {
            if (Error is null)
            {
                completion.TrySetResult(result!);
            }
            else
            {
                completion.TrySetException(Error);
            }
        }

        public override void Fail(Exception exception) => completion.TrySetException(exception);
    }
}
