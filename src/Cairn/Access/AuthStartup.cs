using System.Net;
using Cairn.Configuration;
using Cairn.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Cairn.Access;

/// <summary>
/// Safe defaults at start: with no key and no admin key, Cairn serves loopback only (and says authentication is
/// off); asked to listen anywhere else without keys, it refuses to start and says how to create one. The listen URLs
/// are checked before start, and the addresses Kestrel really bound after it, whatever chose them (<c>--urls</c>,
/// <c>ASPNETCORE_URLS</c>, <c>Kestrel:Endpoints</c>, ...); nothing is served until that check has passed.
/// </summary>
internal sealed partial class AuthStartup(Authenticator authenticator, IConfiguration configuration, IServer server, ILogger<AuthStartup> logger)
    : IHostedLifecycleService
{
    private bool off;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (await authenticator.IsOnAsync(cancellationToken))
        {
            LogOn(logger);
            return;
        }
        off = true;
        var urls = (configuration["urls"] ?? CairnApp.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var exposed = urls.Where(url => !IsLoopback(url)).ToList();
        if (exposed.Count > 0)
        {
            throw Exposed(exposed, "would listen");
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (off)
        {
            var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var exposed = bound.Where(url => !IsLoopback(url)).ToList();
            if (exposed.Count > 0)
            {
                throw Exposed(exposed, "listens");
            }
            LogOff(logger);
        }
        authenticator.ListeningChecked = true;
        return Task.CompletedTask;
    }

    private static OptionsException Exposed(List<string> urls, string verb) => new(
        $"no API keys exist, so authentication is off, and Cairn {verb} on {string.Join(", ", urls)}, beyond this machine. " +
        "Create a key first (cairn keys create --project NAME, with the same --db or --postgres), or listen on 127.0.0.1.");

    /// <summary>Whether a listen URL binds only loopback (<c>localhost</c>, 127.0.0.0/8, ::1).</summary>
    internal static bool IsLoopback(string url)
    {
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        var host = rest.StartsWith('[') ? rest[1..rest.IndexOf(']', StringComparison.Ordinal)] : rest.Split(':', '/')[0];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Authentication is on: requests need an API key")]
    private static partial void LogOn(ILogger logger);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Authentication is off: no API keys exist, so Cairn serves this machine only. Create a key with: cairn keys create --project NAME")]
    private static partial void LogOff(ILogger logger);
}
