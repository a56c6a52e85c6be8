using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Read-only connections kept open with their prepared statements, so a read is a lookup, not a connect and a parse.
/// WAL lets them read while the writer commits.
/// </summary>
internal sealed class SqliteReaders(string connectionString, int keep, long mmapBytes = 256L << 20, int cacheKib = 2048, string? searchPath = null) : IDisposable
{
    private readonly ConcurrentBag<PreparedConnection> idle = [];

    public PreparedConnection Rent()
    {
        if (idle.TryTake(out var session))
        {
            return session;
        }
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        SqliteSchema.Execute(connection, "PRAGMA busy_timeout = 5000");
        SqliteSchema.Execute(connection, $"PRAGMA mmap_size = {mmapBytes}");
        SqliteSchema.Execute(connection, $"PRAGMA cache_size = -{cacheKib}");
        // The search index's file, to join its words with completions; a process that keeps no index (a command
        // reading beside a server) may find none.
        if (searchPath is not null && File.Exists(searchPath))
        {
            SqliteSearchIndex.Attach(connection, searchPath);
        }
        return new PreparedConnection(connection);
    }

    /// <summary>
    /// Runs a read on a pooled connection; a connection whose read failed is closed rather than reused.
    /// Microsoft.Data.Sqlite has no asynchronous I/O (its async methods run synchronously), so a read runs on the
    /// caller's thread; <paramref name="cancellationToken"/> is honoured before it starts and, while it runs, by
    /// interrupting the statement (<c>sqlite3_interrupt</c>), which SQLite checks between rows.
    /// </summary>
    public T Read<T>(Func<PreparedConnection, T> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var session = Rent();
        try
        {
            T result;
            using (cancellationToken.CanBeCanceled ? cancellationToken.Register(session.Interrupt) : default)
            {
                result = read(session);
            }
            Return(session);
            return result;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteInterrupt && cancellationToken.IsCancellationRequested)
        {
            session.Dispose();
            throw new OperationCanceledException(cancellationToken);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private const int SqliteInterrupt = 9;

    /// <summary><see cref="Read"/> as a task: a failure or a cancellation comes back in the task, as from an asynchronous read.</summary>
    public Task<T> ReadAsync<T>(Func<PreparedConnection, T> read, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult(Read(read, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    public void Return(PreparedConnection session)
    {
        if (idle.Count < keep)
        {
            idle.Add(session);
        }
        else
        {
            session.Dispose();
        }
    }

    public void Dispose()
    {
        while (idle.TryTake(out var session))
        {
            session.Dispose();
        }
    }
}
