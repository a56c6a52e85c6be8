namespace Cairn.Backends.Llama;

/// <summary>Loads every local model before Cairn serves; a model that cannot load stops the start with one line.</summary>
internal sealed class LlamaLoader(IEnumerable<LlamaBackend> backends) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var backend in backends)
        {
            backend.Load();
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
