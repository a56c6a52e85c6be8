using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Copies the WAL back into the database file on its own connection and thread. SQLite's automatic checkpoint
/// runs inside whichever commit crosses the threshold, which stalls every write waiting in that group commit.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly SqliteConnection connection;
    private readonly Thread thread;
    private readonly ManualResetEventSlim stop = new();
    private readonly StoreMetrics metrics;

    public SqliteCheckpointer(string connectionString, StoreMetrics metrics)
    {
        this.metrics = metrics;
        connection = new SqliteConnection(connectionString);
        connection.Open();
        SqliteSchema.Execute(connection, "PRAGMA busy_timeout = 5000");
        thread = new Thread(Run) { IsBackground = true, Name = "cairn-sqlite-checkpoint" };
        thread.Start();
    }

    private void Run()
    {
        while (!stop.Wait(Interval))
        {
            try
            {
                // PASSIVE never waits for readers or the writer; what it cannot copy now it copies next time.
                var started = Stopwatch.GetTimestamp();
                SqliteSchema.Execute(connection, "PRAGMA wal_checkpoint(PASSIVE)");
                metrics.Checkpointed(started);
            }
            catch (SqliteException)
            {
                // Busy or interrupted: the next round tries again, and the WAL only grows until it does.
            }
        }
    }

    public void Dispose()
    {
        stop.Set();
        thread.Join(TimeSpan.FromSeconds(30));
        try
        {
            SqliteSchema.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        }
        catch (SqliteException)
        {
            // Left for the next start; the WAL is complete and replayed on open.
        }
        connection.Dispose();
        stop.Dispose();
    }
}
