using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Read-only connections kept open with their prepared statements, so a read is a lookup, not a connect and a parse.
/// WAL lets them read while the writer commits.
/// </summary>
internal sealed class SqliteReaders(string connectionString, int keep, long mmapBytes = 256L << 20, int cacheKib = 2048) : IDisposable
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
        return new PreparedConnection(connection);
    }

    /// <summary>Runs a read on a pooled connection; a connection whose read failed is closed rather than reused.</summary>
    public T Read<T>(Func<PreparedConnection, T> read)
    {
        var session = Rent();
        try
        {
            var result = read(session);
            Return(session);
            return result;
        }
        catch
        {
            session.Dispose();
            throw;
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
