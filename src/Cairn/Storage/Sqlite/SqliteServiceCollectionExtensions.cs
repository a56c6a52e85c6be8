using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>Registers every store contract on one SQLite file; the file is opened by <see cref="SqliteLifetime"/>, not here.</summary>
internal static class SqliteServiceCollectionExtensions
{
    /// <param name="holder">Who holds the file's lock (<see cref="StorageServiceCollectionExtensions.AddCairnStorage"/>); null takes none.</param>
    public static IServiceCollection AddCairnSqlite(this IServiceCollection services, StorageOptions options, string? holder)
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

        services.AddSingleton(_ => new SqliteStoreLock(path));
        services.AddSingleton(sp =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (holder is not null)
            {
                sp.GetRequiredService<SqliteStoreLock>().Acquire(holder);
                // Before any reader attaches the index: one left unsynced by a crashed system is made again.
                SqliteSearchIndex.DiscardIfLeftByACrash(path, sp.GetRequiredService<ILogger<SqliteSearchIndex>>());
            }
            CreateOwnerOnly(path);
            return new SqliteWriter(builder.ConnectionString, options, sp.GetRequiredService<StoreMetrics>(), sp.GetRequiredService<ILogger<SqliteWriter>>());
        });
        services.AddSingleton(sp => new StoreMetrics(sp.GetRequiredService<IMeterFactory>(), StoreMetrics.Sqlite));
        services.AddSingleton(_ => new SqliteReaders(
            readOnly.ConnectionString, options.ReadConnections, options.ReadMmapBytes, options.ReadCacheKib, SqliteSearchIndex.PathFor(path)));
        services.AddSingleton(sp =>
        {
            // The store migrated first: the index reads the identity that migration 10 gives it.
            sp.GetRequiredService<SqliteWriter>();
            CreateOwnerOnly(SqliteSearchIndex.PathFor(path));
            return new SqliteSearchIndex(path, sp.GetRequiredService<SqliteReaders>(), sp.GetRequiredService<StoreMetrics>(), keeper: holder is not null);
        });
        services.AddSingleton<SqliteCompletionStore>();
        services.AddSingleton<ICompletionStore>(sp => sp.GetRequiredService<SqliteCompletionStore>());
        services.AddSingleton<ICompletionRetention>(sp => sp.GetRequiredService<SqliteCompletionStore>());
        services.AddSingleton<SqliteResponseStore>();
        services.AddSingleton<IResponseStore>(sp => sp.GetRequiredService<SqliteResponseStore>());
        services.AddSingleton<IResponseRetention>(sp => sp.GetRequiredService<SqliteResponseStore>());
        services.AddSingleton<IResponseArchive>(sp => sp.GetRequiredService<SqliteResponseStore>());
        services.AddSingleton<IResponseDashboard>(sp => sp.GetRequiredService<SqliteResponseStore>());
        services.AddSingleton<ICompletionArchive, SqliteCompletionArchive>();
        services.AddSingleton<IDashboardStore, SqliteDashboardStore>();
        services.AddSingleton<IAccessStore, SqliteAccessStore>();
        if (holder is not null)
        {
            // The search index is kept by the store's one writer only; a command reading beside a server leaves it be.
            services.AddHostedService<SqliteSearchFlusher>();
        }
        services.AddHostedService<SqliteLifetime>();
        return services;
    }

    /// <summary>
    /// Creates a new database file readable by its owner only (0600), since it holds every prompt and answer; SQLite
    /// gives its -wal and -shm files the mode of the database. An existing file keeps the mode its operator gave it.
    /// </summary>
    internal static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows() || File.Exists(path))
        {
            return;
        }
        try
        {
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created by another process meanwhile: its mode stands.
        }
    }
}
