using Cairn.Backends.Llama;
using Cairn.Models;

namespace Cairn.Backends;

/// <summary>Registers the local backends, each as the <see cref="IChatSource"/> of its model-list entry, and the built-in echo model.</summary>
internal static class BackendsServiceCollectionExtensions
{
    public static IServiceCollection AddCairnBackends(this IServiceCollection services, IReadOnlyList<ConfiguredModel> configured, EchoOptions echo)
    {
        services.AddSingleton(echo);
        services.AddSingleton<EchoBackend>();
        foreach (var model in configured.Where(m => !m.IsUpstream))
        {
            var entry = model.Entries[0];
            if (model.Provider == ModelOptions.Llama)
            {
                services.AddSingleton(sp => new LlamaBackend(entry.Name, entry.Options, sp.GetRequiredService<Random>(), sp.GetRequiredService<ILogger<LlamaBackend>>()));
                services.AddKeyedSingleton<IChatSource>(entry.Name, (sp, _) => new LocalSource(sp.GetServices<LlamaBackend>().First(b => b.Entry == entry.Name)));
            }
            else
            {
                services.AddKeyedSingleton<IChatSource>(entry.Name, (sp, _) => new LocalSource(sp.GetRequiredService<EchoBackend>()));
            }
        }
        services.AddHostedService<LlamaLoader>();
        // The built-in model stays reachable unless the list names "echo" itself.
        services.AddSingleton(sp => new ModelCard(EchoBackend.ModelId, EchoBackend.Created, "cairn", new LocalSource(sp.GetRequiredService<EchoBackend>())));
        return services;
    }
}
