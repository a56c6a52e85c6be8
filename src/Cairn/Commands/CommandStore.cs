using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// The store a command works on, opened from the server's own settings (<c>--db</c>, <c>--postgres</c>, …) without
/// serving: only the store's lifetime runs, and closing it commits every queued write. The app logs to standard
/// error only, at Warning, so that an export to standard output is nothing but its lines.
/// </summary>
internal sealed class CommandStore : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly List<IStoreLifetime> lifetimes;

    private CommandStore(WebApplication app, List<IStoreLifetime> lifetimes) => (this.app, this.lifetimes) = (app, lifetimes);

    public IServiceProvider Services => app.Services;

    /// <summary>
    /// Opens the store; <paramref name="check"/> sees its settings first (and may refuse them) before anything is
    /// opened. A command that writes a SQLite file names itself in <paramref name="holder"/> and holds its lock.
    /// </summary>
    public static async Task<CommandStore> OpenAsync(IEnumerable<string> settings, Action<StorageOptions> check, string? holder)
    {
        var app = CairnApp.Build([.. settings, "--Logging:LogLevel:Default=Warning", "--Logging:Console:LogToStandardErrorThreshold=Trace"], holder);
        try
        {
            check(app.Services.GetRequiredService<StorageOptions>());
            var lifetimes = app.Services.GetServices<IHostedService>().OfType<IStoreLifetime>().ToList();
            foreach (var lifetime in lifetimes)
            {
                await lifetime.StartingAsync(CancellationToken.None);
            }
            return new CommandStore(app, lifetimes);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lifetime in lifetimes)
        {
            await lifetime.StoppedAsync(CancellationToken.None);
        }
        await app.DisposeAsync();
    }
}
