using System.Net;
using System.Text;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// What Cairn leaves on disk holds prompts and answers, or the keys that sign dashboard sessions: the database and its
/// search index, their WAL and shared-memory files, its lock and exports are created readable by their owner only
/// (0600), the key ring's folder 0700 beside the database; a fresh start says where the ring is, without data
/// protection's warning.
/// </summary>
public sealed class StoreFilesTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly TempFolder folder = new();

    [Fact]
    public async Task ANewStore_ItsWalShmLockAndKeyRing_AreTheOwnersOnly_AndTheStartSaysWhereTheRingIs()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // file modes are checked on Linux
        }
        var db = folder.File("fresh.db");
        using (var server = await CairnProcess.StartAsync(db))
        {
            await StoreOneAsync(server.BaseUrl);

            foreach (var file in (string[])[db, db + "-wal", db + "-shm", db + ".lock", db + "-search", db + "-search-wal", db + "-search-shm", db + "-search-boot"])
            {
                Assert.Equal((file, OwnerOnly), (file, File.GetUnixFileMode(file)));
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(db + ".keys"));
            Assert.Single(Directory.GetFiles(db + ".keys", "key-*.xml"));
            Assert.Contains($"Dashboard sessions are encrypted with the key ring in {db}.keys", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("DataProtection", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("unencrypted", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("warn: Microsoft", server.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Exports_AreTheOwnersOnly_EvenOverAnOlderFile_AndAKilledExportsPartialIsReplaced()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // file modes are checked on Linux
        }
        var db = folder.File("source.db");
        using (var server = await CairnProcess.StartAsync(db))
        {
            await StoreOneAsync(server.BaseUrl);
        }
        var (fresh, older) = (folder.File("fresh.jsonl"), folder.File("older.jsonl"));
        await File.WriteAllTextAsync(older, "old\n");
        File.SetUnixFileMode(older, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await File.WriteAllTextAsync(older + ".partial", "left by a killed export\n");
        File.SetUnixFileMode(older + ".partial", OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var first = await CairnCommand.RunAsync("export", "--db", db, "--format", "raw", "--output", fresh);
        var again = await CairnCommand.RunAsync("export", "--db", db, "--format", "raw", "--output", older);

        Assert.True(first.Exit == 0, first.Stderr);
        Assert.True(again.Exit == 0, again.Stderr);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(fresh));
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(older));
        Assert.Contains("still here", await File.ReadAllTextAsync(older), StringComparison.Ordinal);
        Assert.Equal([fresh, older], Directory.GetFiles(folder.Path, "*.jsonl*").Order());
    }

    private static async Task StoreOneAsync(Uri baseUrl)
    {
        using var http = new HttpClient { BaseAddress = baseUrl };
        using var created = await http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"echo","store":true,"messages":[{"role":"user","content":"still here"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
    }

    public void Dispose() => folder.Dispose();
}
