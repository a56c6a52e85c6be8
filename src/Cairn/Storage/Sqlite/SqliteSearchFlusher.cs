namespace Cairn.Storage.Sqlite;

/// <summary>
/// Indexes the search words of newly stored completions five times a second, in batches, instead of one small index
/// segment per group commit (<see cref="SqliteSearchIndex"/>). A text search catches up first, so nothing is missed.
/// </summary>
/// <remarks>
/// Its own thread at a lower priority (<see cref="BackgroundPriority"/>): a catch-up tokenizes and merges for several
/// milliseconds of CPU, and on a thread-pool thread that burst took a core from the requests running beside it.
/// </remarks>
internal sealed partial class SqliteSearchFlusher(SqliteSearchIndex index, ILogger<SqliteSearchFlusher> logger) : IHostedService, IDisposable
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly CancellationTokenSource stop = new();
    private Thread? thread;

    internal bool Running => thread?.IsAlive == true;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        thread = new Thread(Run) { IsBackground = true, Name = "cairn-search-flush" };
        thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stop();
        return Task.CompletedTask;
    }

    private void Stop()
    {
        // A catch-up under way ends with its batch (at most a few hundred milliseconds); what waits after it is indexed
        // at the next start.
        stop.Cancel();
        thread?.Join();
    }

    private void Run()
    {
        BackgroundPriority.LowerCurrentThread();
        while (!stop.Token.WaitHandle.WaitOne(Interval))
        {
            try
            {
                index.CatchUpIfWaiting(stop.Token);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                // The store is shutting down; what waits is indexed at the next start.
                return;
            }
            catch (Exception e)
            {
                // The index's mark stays where it was; the next tick tries again.
                LogFlushFailed(logger, e);
            }
        }
    }

    /// <remarks>
    /// The host disposes without stopping when a service after this one fails to start, so the thread is stopped here
    /// too before its token goes away.
    /// </remarks>
    public void Dispose()
    {
        Stop();
        stop.Dispose();
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Moving search words into the full-text index failed; will retry.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
