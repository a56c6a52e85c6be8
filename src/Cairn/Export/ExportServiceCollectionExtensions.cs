namespace Cairn.Export;

/// <summary>Registers exports and imports of stored completions and responses, on whichever store the server uses.</summary>
internal static class ExportServiceCollectionExtensions
{
    public static IServiceCollection AddCairnExport(this IServiceCollection services)
    {
        // The archive they read is registered by the store (AddCairnStorage).
        services.AddSingleton<CompletionExporter>();
        services.AddSingleton<ResponseExporter>();
        services.AddSingleton<StoreExporter>();
        services.AddSingleton<CompletionImporter>();
        return services;
    }
}
