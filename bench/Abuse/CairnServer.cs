using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Abuse;

/// <summary>
/// One built Cairn (<c>dotnet Cairn.dll</c>) as a child process on 127.0.0.1 (port 0) with a fresh SQLite store in a
/// temporary folder of its own (HOME too, so its data protection key ring lands there). Stopped with SIGKILL by its
/// PID: cases leave servers busy on purpose, and what a graceful stop would wait for is not measured here.
/// </summary>
internal sealed partial class CairnServer : IAsyncDisposable
{
    private static readonly List<CairnServer> Live = [];
    private readonly Process process;
    private readonly StreamWriter log;
    private readonly Task[] pumps;

    private CairnServer(Process process, string folder, StreamWriter log)
    {
        this.process = process;
        Folder = folder;
        this.log = log;
        pumps = [Pump(process.StandardOutput), Pump(process.StandardError)];
    }

    public int Pid => process.Id;
    public string Folder { get; }
    public string Db => Path.Combine(Folder, "cairn.db");
    public Uri Url { get; private set; } = null!;
    public int Port => Url.Port;
    /// <summary>The API key every request sends, when the store has one (the rate-limited project's case).</summary>
    public string? ApiKey { get; init; }
    /// <summary>The id of the completion a case stored here, for the cases that continue on this store.</summary>
    public string? StoredId { get; set; }
    /// <summary>Set when a case left the server in a state the next case must not inherit (busy, killed, capped).</summary>
    public bool Dirty { get; set; }
    public bool Exited => process.HasExited;
    private readonly List<string> lines = [];
    private bool closed;
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Makes a fresh store folder; <paramref name="prepare"/> may run Cairn commands on it before the server starts.</summary>
    public static async Task<CairnServer> StartAsync(Settings settings, string modelsFile, Func<string, Task<string?>>? prepare = null)
    {
        var folder = Directory.CreateTempSubdirectory("cairn-abuse-").FullName;
        var key = prepare is null ? null : await prepare(folder);
        var info = Command(settings, folder, "--urls", "http://127.0.0.1:0", "--db", Path.Combine(folder, "cairn.db"), "--models", modelsFile);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var server = new CairnServer(process, folder, new StreamWriter(Path.Combine(folder, "server.log"))) { ApiKey = key };
        lock (Live)
        {
            Live.Add(server);
        }
        await File.WriteAllTextAsync(settings.PidFile, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            server.Url = await server.listening.Task.WaitAsync(wait.Token);
            await server.WaitHealthyAsync(wait.Token);
        }
        catch (Exception e)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"Cairn did not start within 60 s ({e.Message}); its output:\n{string.Join('\n', server.Tail())}", e);
        }
        await server.WaitQuietAsync();
        return server;
    }

    /// <summary>Runs <c>dotnet Cairn.dll ARGS</c> to its end (a command such as <c>keys create</c>); returns its standard output.</summary>
    public static async Task<string> RunCommandAsync(Settings settings, string folder, params string[] args)
    {
        var info = Command(settings, folder, args);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new InvalidOperationException($"cairn {string.Join(' ', args)} did not finish within 60 s");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"cairn {string.Join(' ', args)} exited with {process.ExitCode}: {await errors}");
        }
        return (await output).Trim();
    }

    private static ProcessStartInfo Command(Settings settings, string folder, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(settings.CairnDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["HOME"] = folder;
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("CAIRN_ADMIN_KEY");
        info.Environment.Remove("ASPNETCORE_URLS");
        return info;
    }

    private async Task Pump(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (lines)
            {
                if (closed)
                {
                    continue;
                }
                log.WriteLine(line);
                lines.Add(line);
                if (lines.Count > 200)
                {
                    lines.RemoveAt(0);
                }
            }
            if (!listening.Task.IsCompleted && ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }
        listening.TrySetException(new InvalidOperationException("Cairn exited"));
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(Url, "/health"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Waits (at most 10 s) until start-up work (JIT, the tokenizer's warm-up) stops using CPU, so a case's CPU is its own.</summary>
    private async Task WaitQuietAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var last = Proc.CpuSeconds(Pid) ?? 0;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            var now = Proc.CpuSeconds(Pid) ?? 0;
            if (now - last < 0.03)
            {
                return;
            }
            last = now;
        }
    }

    /// <summary>The server's last lines of output (for a failure report).</summary>
    public IReadOnlyList<string> Tail()
    {
        lock (lines)
        {
            return [.. lines.TakeLast(30)];
        }
    }

    public void Kill()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await process.WaitForExitAsync(wait.Token);
                await Task.WhenAll(pumps).WaitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        lock (lines)
        {
            closed = true;
            log.Dispose();
        }
        process.Dispose();
        lock (Live)
        {
            Live.Remove(this);
        }
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Kills every server still running (the harness is exiting, however).</summary>
    public static void KillAll()
    {
        lock (Live)
        {
            foreach (var server in Live)
            {
                server.Kill();
            }
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
