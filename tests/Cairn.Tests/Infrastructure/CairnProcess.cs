using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Cairn as its own operating-system process (the built Cairn.dll under `dotnet`), for tests that kill or
/// signal it. It listens on a free loopback port that it reports on stdout.
/// </summary>
public sealed partial class CairnProcess : IDisposable
{
    private readonly Process process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> output;

    private CairnProcess(Process process, Uri baseUrl, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        this.process = process;
        this.output = output;
        BaseUrl = baseUrl;
    }

    /// <summary>Every line the process wrote to stdout and stderr so far (its log).</summary>
    public string Output => string.Join('\n', output);

    public Uri BaseUrl { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public static Task<CairnProcess> StartAsync(string databasePath, params string[] extraArgs) =>
        StartWithArgsAsync(["--db", databasePath, .. extraArgs]);

    /// <summary>Starts Cairn on a PostgreSQL database.</summary>
    public static Task<CairnProcess> StartOnPostgresAsync(string connectionString, params string[] extraArgs) =>
        StartWithArgsAsync(["--postgres", connectionString, .. extraArgs]);

    private static async Task<CairnProcess> StartWithArgsAsync(string[] storageArgs)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Cairn.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[dll, "--urls", "http://127.0.0.1:0", .. storageArgs])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
                if (ListeningLine().Match(line) is { Success: true } match)
                {
                    listening.TrySetResult(new Uri(match.Groups[1].Value));
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new CairnProcess(process, url, output);
    }

    /// <summary>Ends the process at once, as a crash or an OOM kill would: no shutdown code runs.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>Sends SIGTERM, as a service manager does, and waits for the process to exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        await process.WaitForExitAsync().WaitAsync(timeout);
        return process.ExitCode;
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
