using System.Diagnostics.Metrics;
using Cairn.Observability;

namespace Cairn.Backends.Llama;

/// <summary>
/// Loads every local model before Cairn serves (a model that cannot load stops the start with one line), then
/// reports their engines (<see cref="LlamaMetrics"/>).
/// </summary>
internal sealed class LlamaLoader(IEnumerable<LlamaBackend> backends, IMeterFactory meters) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var loaded = backends.ToList();
        foreach (var backend in loaded)
        {
            backend.Load();
        }
        if (loaded.Count > 0)
        {
            LlamaMetrics.Observe(meters.Create(CairnTelemetry.Name, CairnTelemetry.Version), loaded);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
