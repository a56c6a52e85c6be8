using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;

namespace Cairn.Storage;

/// <summary>
/// Registers the store: the one place that chooses the database. Each database's own <c>AddXxx</c> registers every
/// store contract the app uses (completions, responses, retention, archive, dashboard reads, access) and a lifetime service
/// that opens it; registering does no I/O.
/// </summary>
internal static class StorageServiceCollectionExtensions
{
    /// <param name="holder">
    /// The process that writes a SQLite file, named in its lock (<c>cairn serve</c>, <c>cairn import</c>); null for the
    /// commands that work beside a running server (keys, projects, export), which take no lock.
    /// </param>
    public static IServiceCollection AddCairnStorage(this IServiceCollection services, StorageOptions options, string? holder)
    {
        services.AddSingleton(options);
        services.AddHostedService<RetentionService>();
        return options.Postgres is { } connectionString
            ? services.AddCairnPostgres(connectionString, options)
            : services.AddCairnSqlite(options, holder);
    }
}
