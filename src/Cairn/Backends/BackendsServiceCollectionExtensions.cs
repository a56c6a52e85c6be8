namespace Cairn.Backends;

/// <summary>Registers the backends and the catalog that routes model ids to them.</summary>
internal static class BackendsServiceCollectionExtensions
{
    public static IServiceCollection AddCairnBackends(this IServiceCollection services)
    {
        services.AddSingleton<TokenCounter>();
        services.AddSingleton<EchoBackend>();
        services.AddSingleton(sp => new ModelCard(EchoBackend.ModelId, EchoBackend.Created, "cairn", sp.GetRequiredService<EchoBackend>()));
        services.AddSingleton<ModelCatalog>();
        services.AddHostedService<TokenizerWarmup>();
        return services;
    }
}
