using Microsoft.Data.Sqlite;

namespace Cairn.Storage;

/// <summary>Registers the SQLite store of completions.</summary>
internal static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddCairnStorage(this IServiceCollection services, StorageOptions options)
    {
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
        services.AddSingleton<ICompletionStore, SqliteCompletionStore>();
        services.AddSingleton<Cairn.Access.IAccessStore, Cairn.Access.SqliteAccessStore>();
        services.AddHostedService<StorageLifetime>();
        return services;
    }
}
