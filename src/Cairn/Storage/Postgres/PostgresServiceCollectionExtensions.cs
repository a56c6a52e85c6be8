using System.Diagnostics.Metrics;

namespace Cairn.Storage.Postgres;

/// <summary>Registers every store contract on one PostgreSQL database.</summary>
internal static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// Checks the connection string now (a bad one stops the server with one line naming the setting) and makes the
    /// connection pools, which connect only when used: <see cref="PostgresLifetime"/> connects and migrates before
    /// the server listens.
    /// </summary>
    public static IServiceCollection AddCairnPostgres(this IServiceCollection services, string connectionString, StorageOptions options)
    {
        var dataSources = PostgresConnect.Create(connectionString, SettingName);
        services.AddSingleton(dataSources);
        services.AddSingleton(sp => new StoreMetrics(sp.GetRequiredService<IMeterFactory>(), StoreMetrics.Postgres));
        services.AddSingleton(sp => new PostgresWriter(
            dataSources.Prepared, options, sp.GetRequiredService<StoreMetrics>(), sp.GetRequiredService<ILogger<PostgresWriter>>()));
        services.AddSingleton<ICompletionStore, PostgresCompletionStore>();
        services.AddSingleton<ICompletionRetention, PostgresRetention>();
        services.AddSingleton<PostgresResponseStore>();
        services.AddSingleton<IResponseStore>(sp => sp.GetRequiredService<PostgresResponseStore>());
        services.AddSingleton<IResponseRetention>(sp => sp.GetRequiredService<PostgresResponseStore>());
        services.AddSingleton<IResponseArchive>(sp => sp.GetRequiredService<PostgresResponseStore>());
        services.AddSingleton<IResponseDashboard>(sp => sp.GetRequiredService<PostgresResponseStore>());
        services.AddSingleton<ICompletionArchive, PostgresCompletionArchive>();
        services.AddSingleton<IDashboardStore, PostgresDashboardStore>();
        services.AddSingleton<IAccessStore, PostgresAccessStore>();
        services.AddHostedService<PostgresLifetime>();
        return services;
    }

    /// <summary>The setting a failure to use the database names.</summary>
    public const string SettingName = "Storage:Postgres";
}
