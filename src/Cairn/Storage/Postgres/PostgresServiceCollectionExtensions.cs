using Cairn.Http;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>Registers the PostgreSQL store of completions.</summary>
internal static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// Connects and applies migrations now, while the server is being built, so that a server that cannot use its
    /// database stops with one line instead of starting to fail requests.
    /// </summary>
    public static IServiceCollection AddCairnPostgres(this IServiceCollection services, string connectionString, StorageOptions options)
    {
        var dataSource = PostgresConnect.Open(connectionString, "Storage:Postgres");
        services.AddSingleton(options);
        services.AddSingleton(dataSource);
        services.AddSingleton<PostgresWriter>();
        services.AddSingleton<ICompletionStore, PostgresCompletionStore>();
        services.AddSingleton<ICompletionRetention, PostgresRetention>();
        services.AddHostedService<PostgresLifetime>();
        return services;
    }
}
