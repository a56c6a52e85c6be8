using System.Diagnostics;
using Microsoft.Data.Sqlite;

/// <summary>A bulk load without a journal or fsync; the file goes back to WAL (what Cairn runs with) at the end.</summary>
internal static class BulkLoad
{
    public const int PerTransaction = 50_000;

    public static void Begin(SqliteConnection connection)
    {
        Sql.Exec(connection, "PRAGMA journal_mode = DELETE");
        Sql.Exec(connection, "PRAGMA journal_mode = OFF");
        Sql.Exec(connection, "PRAGMA synchronous = OFF");
        Sql.Exec(connection, "PRAGMA cache_size = -2000000");
        Sql.Exec(connection, "PRAGMA temp_store = MEMORY");
    }

    public static void End(SqliteConnection connection, Stopwatch stopwatch)
    {
        Sql.Exec(connection, "PRAGMA journal_mode = WAL");
        // No ANALYZE: Cairn never runs it, so the planner sees what it sees in production.
        Console.Error.WriteLine($"seed: back to WAL at {stopwatch.Elapsed.TotalSeconds:F1} s");
    }
}
