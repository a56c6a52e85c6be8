using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Copies the WAL back into the database file on its own connection and thread. SQLite's automatic checkpoint
/// runs inside whichever commit crosses the threshold, which stalls every write waiting in that group commit.
/// </summary>
/// <remarks>
/// A checkpoint here never catches up with a writer that keeps committing: the frames written while it copies are
/// left, so the log is never found fully copied and SQLite never starts it over. It would then grow without end,
/// and every new page of it costs the kernel an allocation and zeroing (a quarter of the writer's time under
/// sustained load), reads search a longer index and a restart after a crash replays more. So once the log is past
/// <see cref="RestartFrames"/>, the writer is asked (<see cref="RestartWanted"/>) to copy the frames left itself,
/// between two batches, after which its next transaction writes the log from the start again. Every write waits
/// while the writer copies, and the copy ends with a sync of the database file, so before asking, this thread copies
/// again at once until a round is short (<see cref="ShortRound"/>): what the writer is left is then only what was
/// committed during that round, not during a whole checkpoint. (At a million stored completions, with frames spread
/// over the file, the writer's copy took 40-90 ms without these rounds, about once a second under load.)
/// </remarks>
internal sealed class SqliteCheckpointer : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Frames in the log (of a page each, 4 KiB by default) past which the writer is asked to let it start over.</summary>
    internal const int RestartFrames = 8192;

    /// <summary>A checkpoint round this quick leaves the writer little to copy; the catch-up stops at the first one.</summary>
    private static readonly TimeSpan ShortRound = TimeSpan.FromMilliseconds(3);

    /// <summary>Catch-up rounds at most before the writer is asked anyway (the sync's time varies with the disk).</summary>
    private const int CatchUpRounds = 4;

    private volatile bool restartWanted;
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
                if (Checkpoint() is { Busy: false, Frames: >= RestartFrames })
                {
                    CatchUp();
                }
            }
            catch (SqliteException)
            {
                // Busy or interrupted: the next round tries again, and the WAL only grows until it does.
            }
        }
    }

    /// <summary>Copies the frames committed during the last checkpoint, again until a round is short; then asks the writer.</summary>
    private void CatchUp()
    {
        for (var round = 0; round < CatchUpRounds; round++)
        {
            var (busy, _, took) = Checkpoint();
            if (busy)
            {
                // A reader on an older snapshot keeps the log from starting over: asked again after the next checkpoint.
                return;
            }
            if (took < ShortRound)
            {
                break;
            }
        }
        restartWanted = true;
    }

    /// <summary>
    /// One PASSIVE checkpoint, which never waits for readers or the writer (what it cannot copy now it copies next
    /// time): whether it was kept from copying all it found, how many frames the log held, and how long it took.
    /// </summary>
    private (bool Busy, long Frames, TimeSpan Took) Checkpoint()
    {
        var started = Stopwatch.GetTimestamp();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var result = command.ExecuteReader();
        // busy, frames in the log, frames copied into the database file (one row, in WAL mode)
        var (busy, frames) = result.Read() ? (result.GetInt64(0) != 0, result.GetInt64(1)) : (false, 0L);
        metrics.Checkpointed(started);
        return (busy, frames, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// True once, after a checkpoint found the log long: the writer then copies what is left itself, between two
    /// batches (<see cref="RestartIfWanted"/>), so that its next transaction starts the log over.
    /// </summary>
    public bool RestartWanted => restartWanted;

    /// <summary>
    /// Run by the writer between batches: when <see cref="RestartWanted"/>, copies the frames committed since the last
    /// checkpoint on the writer's own connection, so that the log is fully copied and the next write starts it over.
    /// A reader still on an older snapshot can keep that from happening; it is asked again after the next checkpoint.
    /// </summary>
    public void RestartIfWanted(SqliteCommand checkpoint)
    {
        if (!restartWanted)
        {
            return;
        }
        restartWanted = false;
        var started = Stopwatch.GetTimestamp();
        try
        {
            checkpoint.ExecuteNonQuery();
            metrics.Checkpointed(started);
        }
        catch (SqliteException)
        {
            // Busy with the other checkpoint: asked again after the next one.
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
