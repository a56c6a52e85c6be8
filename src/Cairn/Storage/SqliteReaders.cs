using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage;

/// <summary>
/// Read-only connections kept open with their prepared statements, so a read is a lookup, not a connect and a parse.
/// WAL lets them read while the writer commits.
/// </summary>
internal sealed class SqliteReaders(string connectionString, int keep) : IDisposable
{
    private readonly ConcurrentBag<Session> idle = [];

    public Session Rent()
    {
        if (idle.TryTake(out var session))
        {
            return session;
        }
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        SqliteSchema.Execute(connection, "PRAGMA busy_timeout = 5000");
        SqliteSchema.Execute(connection, "PRAGMA mmap_size = 268435456");
        return new Session(connection);
    }

    public void Return(Session session)
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

    /// <summary>One read connection and the statements prepared on it.</summary>
    public sealed class Session(SqliteConnection connection) : IDisposable
    {
        private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);

        public SqliteCommand Command(string sql)
        {
            if (!commands.TryGetValue(sql, out var command))
            {
                command = connection.CreateCommand();
                command.CommandText = sql;
                commands[sql] = command;
            }
            return command;
        }

        public void Dispose()
        {
            foreach (var command in commands.Values)
            {
                command.Dispose();
            }
            connection.Dispose();
        }
    }
}
