namespace Cairn.Models;

/// <summary>Registers the catalog that routes model ids to their sources, and the token counter every source may use.</summary>
internal static class ModelsServiceCollectionExtensions
{
    /// <summary>
    /// The catalog lists <paramref name="configured"/> in order, each answered by the <see cref="IChatSource"/>
    /// registered under its entry's name (by <c>AddCairnUpstreams</c> or <c>AddCairnBackends</c>; with its
    /// <see cref="IResponseSource"/> when it relays responses), then any
    /// <see cref="ModelCard"/> registered on its own (the built-in echo).
    /// </summary>
    public static IServiceCollection AddCairnModels(this IServiceCollection services, IReadOnlyList<ConfiguredModel> configured)
    {
        services.AddSingleton<TokenCounter>();
        services.AddHostedService<TokenizerWarmup>();
        services.AddSingleton(sp =>
        {
            var started = sp.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds();
            var cards = configured
                .Select(m => new ModelCard(m.Id, started, m.IsUpstream ? m.Provider : "cairn", sp.GetRequiredKeyedService<IChatSource>(m.Entry))
                {
                    Responses = m.RelaysResponses ? sp.GetRequiredKeyedService<IResponseSource>(m.Entry) : null,
                    Provider = ProviderNames.Of(m.Provider),
                })
                .Concat(sp.GetServices<ModelCard>());
            return new ModelCatalog(cards);
        });
        return services;
    }
}
