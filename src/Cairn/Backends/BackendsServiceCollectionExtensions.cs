using Cairn.Upstream;

namespace Cairn.Backends;

/// <summary>Registers the backends and the catalog that routes model ids to them.</summary>
internal static class BackendsServiceCollectionExtensions
{
    public static IServiceCollection AddCairnBackends(this IServiceCollection services, IReadOnlyList<ConfiguredModel> configured)
    {
        services.AddSingleton<TokenCounter>();
        services.AddSingleton<EchoBackend>();
        services.AddSingleton(sp =>
        {
            var echo = sp.GetRequiredService<EchoBackend>();
            var started = sp.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds();
            var cards = new List<ModelCard>();
            foreach (var model in configured)
            {
                cards.Add(model.Route is { } route
                    ? new ModelCard(model.Id, started, route.Deployments[0].Provider, null, route)
                    : new ModelCard(model.Id, started, "cairn", echo));
            }
            // The built-in model stays reachable unless the list names "echo" itself.
            cards.Add(new ModelCard(EchoBackend.ModelId, EchoBackend.Created, "cairn", echo));
            return new ModelCatalog(cards);
        });
        services.AddHostedService<TokenizerWarmup>();
        return services;
    }
}
