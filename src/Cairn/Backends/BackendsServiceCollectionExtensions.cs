using Cairn.Backends.Llama;
using Cairn.Upstream;

namespace Cairn.Backends;

/// <summary>Registers the backends and the catalog that routes model ids to them.</summary>
internal static class BackendsServiceCollectionExtensions
{
    public static IServiceCollection AddCairnBackends(this IServiceCollection services, IReadOnlyList<ConfiguredModel> configured, EchoOptions echo)
    {
        services.AddSingleton(echo);
        services.AddSingleton<TokenCounter>();
        services.AddSingleton<EchoBackend>();
        foreach (var model in configured.Where(m => m.Local is not null))
        {
            services.AddSingleton(sp => new LlamaBackend(model.Entry, model.Local!, sp.GetRequiredService<ILogger<LlamaBackend>>()));
        }
        services.AddHostedService<LlamaLoader>();
        services.AddSingleton(sp =>
        {
            var echo = sp.GetRequiredService<EchoBackend>();
            var started = sp.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds();
            var local = sp.GetServices<LlamaBackend>().ToDictionary(b => b.Entry);
            var cards = new List<ModelCard>();
            foreach (var model in configured)
            {
                cards.Add(model.Route is { } route
                    ? new ModelCard(model.Id, started, route.Deployments[0].Provider, null, route)
                    : model.Local is not null
                        ? new ModelCard(model.Id, started, "cairn", local[model.Entry])
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
