using Cairn.Storage;

namespace Cairn.Commands;

/// <summary>
/// The store a command works on, opened from the server's own settings (<c>--db</c>, <c>--postgres</c>, …) in a generic
/// host that serves nothing: it registers only the store, access and export services, and only the store's lifetime
/// runs; closing it commits every queued write. It logs to standard error only, at Warning, so that an export to
/// standard output is nothing but its lines and a new key's secret is alone there.
/// </summary>
internal sealed class CommandStore : IAsyncDisposable
{
    private readonly IHost host;
    private readonly List<IStoreLifetime> lifetimes;

    private CommandStore(IHost host, List<IStoreLifetime> lifetimes) => (this.host, this.lifetimes) = (host, lifetimes);

    public IServiceProvider Services => host.Services;

    /// <summary>
    /// Opens the store; <paramref name="check"/> sees its settings first (and may refuse them) before anything is
    /// opened. A command that writes a SQLite file names itself in <paramref name="holder"/> and holds its lock.
    /// </summary>
    public static async Task<CommandStore> OpenAsync(IEnumerable<string> settings, Action<StorageOptions> check, string? holder)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [CairnApp.ReadSettingsOnce], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine([.. settings]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:Console:LogToStandardErrorThreshold"] = "Trace",
        });
        CairnApp.AddStore(builder.Services, builder.Configuration, holder);
        // Nothing runs in the background of a command (retention, search flushes, the listen check): only the store's lifetime.
        var background = builder.Services
            .Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType is { } type && !type.IsAssignableTo(typeof(IStoreLifetime)))
            .ToList();
        foreach (var descriptor in background)
        {
            builder.Services.Remove(descriptor);
        }
        var host = builder.Build();
        try
        {
            CairnApp.ValidateOptions(host.Services);
            check(host.Services.GetRequiredService<StorageOptions>());
            var lifetimes = host.Services.GetServices<IHostedService>().OfType<IStoreLifetime>().ToList();
            foreach (var lifetime in lifetimes)
            {
                await lifetime.StartingAsync(CancellationToken.None);
            }
            return new CommandStore(host, lifetimes);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lifetime in lifetimes)
        {
            await lifetime.StoppedAsync(CancellationToken.None);
        }
        if (host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}
