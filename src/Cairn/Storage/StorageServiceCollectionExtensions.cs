using Cairn.Storage.Postgres;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage;

/// <summary>Registers the store of completions: SQLite, or PostgreSQL when <see cref="StorageOptions.Postgres"/> is set.</summary>
internal static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddCairnStorage(this IServiceCollection services, StorageOptions options)
    {
        services.AddHostedService<RetentionService>();
        if (options.Postgres is { } connectionString)
        {
            return services.AddCairnPostgres(connectionString, options);
        }
        var path = Path.GetFullPath(options.Path, Environment.CurrentDirectory);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
        };
        var readOnly = new SqliteConnectionStringBuilder(builder.ConnectionString) { Mode = SqliteOpenMode.ReadOnly };

        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new SqliteWriter(builder.ConnectionString, options, sp.GetRequiredService<ILogger<SqliteWriter>>());
        });
        services.AddSingleton(_ => new SqliteReaders(readOnly.ConnectionString, options.ReadConnections, options.ReadMmapBytes, options.ReadCacheKib));
        services.AddSingleton<SqliteCompletionStore>();
        services.AddSingleton<ICompletionStore>(sp => sp.GetRequiredService<SqliteCompletionStore>());
        services.AddSingleton<ICompletionRetention>(sp => sp.GetRequiredService<SqliteCompletionStore>());
        services.AddHostedService<SqliteSearchFlusher>();
        services.AddSingleton<Cairn.Access.IAccessStore, Cairn.Access.SqliteAccessStore>();
        services.AddHostedService<StorageLifetime>();
        return services;
    }
}
