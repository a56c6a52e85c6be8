using Cairn.Storage.Postgres;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage;

/// <summary>Registers the store of completions: SQLite, or PostgreSQL when <see cref="StorageOptions.Postgres"/> is set.</summary>
internal static class StorageServiceCollectionExtensions
{
    /// <param name="holder">
    /// The process that writes a SQLite file, named in its lock (<c>cairn serve</c>, <c>cairn import</c>); null for the
    /// commands that work beside a running server (keys, projects, export), which take no lock.
    /// </param>
    public static IServiceCollection AddCairnStorage(this IServiceCollection services, StorageOptions options, string? holder)
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
        services.AddSingleton(_ => new SqliteStoreLock(path));
        services.AddSingleton(sp =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (holder is not null)
            {
                sp.GetRequiredService<SqliteStoreLock>().Acquire(holder);
            }
            CreateOwnerOnly(path);
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

    /// <summary>
    /// Creates a new database file readable by its owner only (0600), since it holds every prompt and answer; SQLite
    /// gives its -wal and -shm files the mode of the database. An existing file keeps the mode its operator gave it.
    /// </summary>
    private static void CreateOwnerOnly(string path)
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
