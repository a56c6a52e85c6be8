using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>An open connection that keeps each command it makes, so a statement is prepared once, not per use.</summary>
internal sealed class PreparedConnection(SqliteConnection connection) : IDisposable
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

    /// <summary>The connection itself, for statements run once (schema changes).</summary>
    public SqliteConnection Connection => connection;

    /// <summary>Makes the statement running on this connection stop with SQLITE_INTERRUPT (a cancelled read).</summary>
    public void Interrupt() => SQLitePCL.raw.sqlite3_interrupt(connection.Handle);

    public void Dispose()
    {
        foreach (var command in commands.Values)
        {
            command.Dispose();
        }
        connection.Dispose();
    }
}
