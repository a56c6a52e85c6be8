namespace Cairn.Storage.Postgres;

/// <summary>
/// Connects to the database and applies migrations before the server listens (a database that cannot be used stops
/// it with one line), and commits every queued write after the server has drained its requests, then closes the
/// connection pools.
/// </summary>
internal sealed partial class PostgresLifetime(PostgresWriter writer, PostgresDataSources dataSources, ILogger<PostgresLifetime> logger)
    : IStoreLifetime
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await PostgresConnect.MigrateAsync(dataSources, PostgresServiceCollectionExtensions.SettingName, forMigrate: false, cancellationToken);
        var database = PostgresConnect.Describe(dataSources);
        LogOpened(logger, database);
    }

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await writer.DrainAsync();
        LogDrained(logger);
        await dataSources.DisposeAsync();
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Storing completions in PostgreSQL database {Database}")]
    private static partial void LogOpened(ILogger logger, string database);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Every queued write is committed; the store is closed to writes")]
    private static partial void LogDrained(ILogger logger);
}
