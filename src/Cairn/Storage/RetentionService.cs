namespace Cairn.Storage;

/// <summary>Purges completions older than <see cref="StorageOptions.RetentionDays"/> in the background, batch by batch.</summary>
internal sealed partial class RetentionService(
    ICompletionRetention retention, StorageOptions options, TimeProvider clock, ILogger<RetentionService> logger) : BackgroundService
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
            try
            {
                var batches = 0;
                while (await retention.PurgeAsync(clock.GetUtcNow() - keep, options.PurgeBatch, stoppingToken))
                {
                    batches++;
                }
                if (batches > 0)
                {
                    LogPurged(logger, batches);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogPurgeFailed(logger, e);
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

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Purged {Batches} full batches of expired completions")]
    private static partial void LogPurged(ILogger logger, int batches);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Purging expired completions failed; the next round tries again")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
