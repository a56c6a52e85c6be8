using Cairn.Storage;
using Cairn.Storage.Postgres;

namespace Cairn.Export;

/// <summary>Registers exports and imports of stored completions, on whichever store the server uses.</summary>
internal static class ExportServiceCollectionExtensions
{
    public static IServiceCollection AddCairnExport(this IServiceCollection services)
    {
        // AddCairnStorage registers the options of the store it chose; the archive reads the same store.
        services.AddSingleton<ICompletionArchive>(sp => sp.GetRequiredService<StorageOptions>().Postgres is null
            ? new SqliteCompletionArchive(sp.GetRequiredService<SqliteReaders>())
            : new PostgresCompletionArchive(sp.GetRequiredService<PostgresDataSources>()));
        services.AddSingleton<CompletionExporter>();
        services.AddSingleton<CompletionImporter>();
        return services;
    }
}
