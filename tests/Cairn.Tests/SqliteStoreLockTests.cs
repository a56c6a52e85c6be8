using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// One process writes a SQLite file (a server or an import), by an operating-system lock on <c>&lt;db&gt;.lock</c>: a
/// second one is refused with a line naming the holder's process and command, the holder goes on storing, the keys
/// commands still work beside it, and a killed holder's lock goes with it.
/// </summary>
public sealed class SqliteStoreLockTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task ASecondServer_OnTheSameFile_IsRefused_NamingTheFirst_WhichKeepsStoring()
    {
        var db = folder.File("one.db");
        using var first = await CairnProcess.StartAsync(db);

        var second = await CairnCommand.RunWithAsync(null, new Dictionary<string, string>(), ["--db", db, "--urls", "http://127.0.0.1:0"], TimeSpan.FromSeconds(60));
        var keys = await CairnCommand.RunAsync("keys", "create", "--project", "beside", "--db", db);

        Assert.Equal(2, second.Exit);
        Assert.Contains($"cairn: {db} is in use by process {first.Id} (cairn serve)", second.Stderr, StringComparison.Ordinal);
        Assert.True(keys.Exit == 0, keys.Stderr);
        Assert.Equal($"{first.Id} cairn serve", (await File.ReadAllTextAsync(db + ".lock")).Trim());

        using var http = new HttpClient { BaseAddress = first.BaseUrl };
        // A key made by another process turns authentication on within the server's recheck interval; until then a
        // request is served as the default project, so wait for the switch before using the key.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await http.GetAsync("/v1/models")).StatusCode != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        http.DefaultRequestHeaders.Authorization = new("Bearer", keys.Stdout.Trim());
        using var created = await http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"echo","store":true,"messages":[{"role":"user","content":"still mine"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        using var stored = await http.GetAsync($"/v1/chat/completions/{id}");
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
    }

    [Fact]
    public async Task TwoImportsStartedTogether_ExactlyOneRuns()
    {
        var db = folder.File("imports.db");
        // Each reads standard input, held open, so the one that runs holds the lock until the input ends.
        using var a = StartImport(db);
        using var b = StartImport(db);
        try
        {
            await Task.WhenAny(a.WaitForExitAsync(), b.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            var (refused, running) = a.HasExited ? (a, b) : (b, a);

            Assert.Equal(2, refused.ExitCode);
            Assert.Contains($"{db} is in use by process {running.Id} (cairn import)", await refused.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
            Assert.False(running.HasExited);

            running.StandardInput.Close();
            await running.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, running.ExitCode);
            Assert.Contains("imported 0 completions", await running.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var import in (Process[])[a, b])
            {
                if (!import.HasExited)
                {
                    import.Kill(entireProcessTree: true);
                }
            }
        }
    }

    [Fact]
    public async Task AKilledServersLock_GoesWithIt()
    {
        var db = folder.File("killed.db");
        using (var victim = await CairnProcess.StartAsync(db))
        {
            victim.Kill(); // SIGKILL: no shutdown code runs
        }
        using var next = await CairnProcess.StartAsync(db);
        using var http = new HttpClient { BaseAddress = next.BaseUrl };

        using var health = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal($"{next.Id} cairn serve", (await File.ReadAllTextAsync(db + ".lock")).Trim());
    }

    private static Process StartImport(string db)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "import", "--db", db, "-"])
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start)!;
    }

    [Fact]
    public async Task AHolderThatHasNotWrittenItsLineYet_IsWaitedFor_AndNamed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Elsewhere the file is opened without sharing and its holder is not read.
        }
        var db = folder.File("racing.db");
        using var holder = new Cairn.Storage.Sqlite.SqliteStoreLock(db);
        holder.Acquire("cairn import");
        // As a new file is between its lock being taken and its holder's line written.
        await File.WriteAllTextAsync(db + ".lock", "");
        var writes = Task.Run(async () =>
        {
            await Task.Delay(300);
            await File.WriteAllTextAsync(db + ".lock", "4242 cairn import\n");
        });

        var refused = Assert.Throws<Cairn.Configuration.OptionsException>(() => new Cairn.Storage.Sqlite.SqliteStoreLock(db).Acquire("cairn serve"));

        await writes;
        Assert.Contains($"{db} is in use by process 4242 (cairn import)", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose() => folder.Dispose();
}
