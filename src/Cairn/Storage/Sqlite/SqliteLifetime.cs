namespace Cairn.Storage.Sqlite;

/// <summary>
/// Opens the store (and applies migrations) before the server listens, and commits every queued write after the
/// server has drained its requests: hosted services stop before Kestrel finishes, so draining waits for Stopped.
/// </summary>
internal sealed partial class SqliteLifetime(IServiceProvider services, StorageOptions options, ILogger<SqliteLifetime> logger)
    : IStoreLifetime
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<SqliteWriter>();
        if (services.GetRequiredService<SqliteStoreLock>().Held)
        {
            // Opened (and made again when it must be) by the store's one writer only.
            services.GetRequiredService<SqliteSearchIndex>();
        }
        var path = Path.GetFullPath(options.Path, Environment.CurrentDirectory);
        LogOpened(logger, path);
        return Task.CompletedTask;
    }

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await services.GetRequiredService<SqliteWriter>().DrainAsync();
        LogDrained(logger);
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Storing completions in {Path}")]
    private static partial void LogOpened(ILogger logger, string path);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Every queued write is committed; the store is closed to writes")]
    private static partial void LogDrained(ILogger logger);
}
