namespace Cairn.Storage;

/// <summary>
/// Purges completions and responses older than <see cref="StorageOptions.RetentionDays"/> in the background, batch by
/// batch, by one rule: what was created before the same moment goes.
/// </summary>
internal sealed partial class RetentionService(
    ICompletionRetention retention, IResponseRetention responses, StorageOptions options, StoreMetrics metrics, TimeProvider clock,
    ILogger<RetentionService> logger)
    : BackgroundService
{
    /// <summary>How long a deleted or expired id stays a valid <c>after</c> cursor once its completion has expired.</summary>
    public static readonly TimeSpan TombstoneGrace = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.RetentionDays == 0)
        {
            return;
        }
        var keep = TimeSpan.FromDays(options.RetentionDays);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var batches = 0;
                var expiredBefore = clock.GetUtcNow() - keep;
                while (await retention.PurgeAsync(expiredBefore, options.PurgeBatch, stoppingToken))
                {
                    batches++;
                }
                while (await responses.PurgeAsync(expiredBefore, options.PurgeBatch, stoppingToken))
                {
                    batches++;
                }
                if (batches > 0)
                {
                    LogPurged(logger, batches);
                }
                metrics.Swept(started);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogPurgeFailed(logger, e);
                metrics.Swept(started, e);
            }
            try
            {
                await Task.Delay(options.PurgeInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Purged {Batches} full batches of expired completions and responses")]
    private static partial void LogPurged(ILogger logger, int batches);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Purging expired completions or responses failed; the next round tries again")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
