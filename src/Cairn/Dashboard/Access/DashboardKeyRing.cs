namespace Cairn.Dashboard.Access;

/// <summary>
/// The folder of ASP.NET Core data protection's key ring, which encrypts dashboard sessions and antiforgery tokens.
/// It is kept with the store (<c>&lt;db&gt;.keys</c> beside a SQLite file, or <see cref="Cairn.Storage.StorageOptions.KeyRingPath"/>),
/// created readable by its owner only (0700), and said once at start in Cairn's words, instead of the framework's
/// warning that keys are stored unencrypted, which a newcomer cannot act on.
/// </summary>
internal sealed partial class DashboardKeyRing(string folder, ILogger<DashboardKeyRing> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Create(folder);
        LogWhere(logger, folder);
        return Task.CompletedTask;
    }

    /// <summary>Creates the folder 0700; a folder that exists keeps the mode its operator gave it.</summary>
    internal static void Create(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information,
        Message = "Dashboard sessions are encrypted with the key ring in {Folder} (readable by this user only; whoever can read it can forge sessions). " +
            "Back it up with the store; instances behind one address must share it (Storage:KeyRingPath)")]
    private static partial void LogWhere(ILogger logger, string folder);
}
