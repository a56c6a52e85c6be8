namespace Cairn.Storage.Sqlite;

/// <summary>
/// Indexes the search words of newly stored completions five times a second, in batches, instead of one small index
/// segment per group commit (<see cref="SqliteSearchIndex"/>). A text search catches up first, so nothing is missed.
/// </summary>
internal sealed partial class SqliteSearchFlusher(SqliteSearchIndex index, ILogger<SqliteSearchFlusher> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await index.CatchUpIfWaitingAsync();
                }
                catch (Exception e) when (e is not ObjectDisposedException)
                {
                    // The index's mark stays where it was; the next tick tries again.
                    LogFlushFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The store is shutting down; what waits is indexed at the next start.
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Moving search words into the full-text index failed; will retry.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
