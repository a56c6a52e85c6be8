
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
        var dataSources = PostgresConnect.Open(connectionString, "Storage:Postgres");
        services.AddSingleton(options);
        services.AddSingleton(dataSources);
        services.AddSingleton(sp => new PostgresWriter(dataSources.Prepared, options, sp.GetRequiredService<ILogger<PostgresWriter>>()));
        services.AddSingleton<ICompletionStore, PostgresCompletionStore>();
        services.AddSingleton<ICompletionRetention, PostgresRetention>();
        services.AddSingleton<Cairn.Access.IAccessStore, Cairn.Access.PostgresAccessStore>();
        services.AddHostedService<PostgresLifetime>();
        return services;
    }
}
