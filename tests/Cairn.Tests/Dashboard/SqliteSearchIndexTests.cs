using System.Net.Http.Json;
using System.Text;
using Cairn.Storage;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// SQLite's search words live in an index file of their own beside the store, and reach it in batches after their
/// completions commit: a text search still finds everything stored before it, deletes take words out, a restart, an
/// upgrade from a store that kept the index itself, a lost index file or one from another store lose nothing and
/// show nothing that is not this store's.
/// </summary>
public sealed class SqliteSearchIndexTests : IDisposable
{
    private readonly TempFolder folder = new();

    private sealed class Store : IDisposable
    {
        /// <param name="keeper">Opened as the server opens it, holding the store: an index left by a crash thrown away first.</param>
        public Store(string file, bool keeper = false)
        {
            if (keeper)
            {
                SqliteSearchIndex.DiscardIfLeftByACrash(file, NullLogger.Instance);
            }
            Writer = new SqliteWriter($"Data Source={file};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);
            Readers = new SqliteReaders($"Data Source={file};Mode=ReadOnly;Pooling=False", 2, searchPath: SqliteSearchIndex.PathFor(file));
            Search = new SqliteSearchIndex(file, Readers, TestStoreMetrics.Sqlite(), keeper);
            Completions = new SqliteCompletionStore(Writer, Readers, Search);
            Dashboard = new SqliteDashboardStore(Readers, Completions);
        }

        public SqliteWriter Writer { get; }
        public SqliteReaders Readers { get; }
        public SqliteSearchIndex Search { get; }
        public SqliteCompletionStore Completions { get; }
        public SqliteDashboardStore Dashboard { get; }

        /// <summary>The seq of the last completion in the index (its mark), read from the index file.</summary>
        public long Mark() => Readers.Read(session => (long)session.Command("SELECT seq FROM search.search_mark").ExecuteScalar()!, default);

        public long Matches(string word) => Readers.Read(session =>
        {
            var count = session.Command("SELECT count(*) FROM search.completion_search WHERE completion_search MATCH $word");
            count.Parameters.Clear();
            count.Parameters.AddWithValue("$word", word);
            return (long)count.ExecuteScalar()!;
        }, default);

        public async Task<List<string>> SearchAsync(string text) =>
            [.. (await Dashboard.ListAsync(new DashboardFilter(1, null, [], null, null, text), PageCursor.Newest, 50, default)).Rows.Select(r => r.Id)];

        public void Dispose()
        {
            Search.Dispose();
            Writer.Dispose();
            Readers.Dispose();
        }
    }

    private static StoredCompletion Completion(string id, string words) => new(1, id, "echo", DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Body(id, words), new Dictionary<string, string>(), [Message(id, words)]);

    private static byte[] Body(string id, string words) => Encoding.UTF8.GetBytes(
        $$"""{"id":"{{id}}","object":"chat.completion","model":"echo","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5},"metadata":{},"choices":[{"index":0,"message":{"role":"assistant","content":"{{words}}"},"finish_reason":"stop","logprobs":null}]}""");

    private static byte[] Message(string id, string words) => Encoding.UTF8.GetBytes(
        $$"""{"id":"{{id}}-0","role":"user","content":"{{words}}","content_parts":null,"name":null}""");

    [Fact]
    public async Task WordsWaitUntilIndexed_YetASearchRightAfterStoringFindsThem()
    {
        using var store = new Store(folder.File("a.db"));
        await store.Completions.AddAsync(Completion("chatcmpl-a1", "walrus tusk"), default);
        await store.Completions.AddAsync(Completion("chatcmpl-a2", "walrus whiskers"), default);

        Assert.Equal(0, store.Mark());
        Assert.Equal(["chatcmpl-a2", "chatcmpl-a1"], await store.SearchAsync("walrus"));
        Assert.Equal(2, store.Mark());
        Assert.Equal(["chatcmpl-a1"], await store.SearchAsync("tusk"));
    }

    [Fact]
    public async Task KeptTexts_OfAnySizeOrScript_AreIndexedAsTheirWords()
    {
        // The texts wait for the catch-up as UTF-8 in pooled buffers of up to 32 KiB; a larger one is allocated alone.
        using var store = new Store(folder.File("k.db"));
        var large = string.Join(' ', Enumerable.Range(0, 8_000).Select(i => $"w{i}")) + " manatee";
        await store.Completions.AddAsync(Completion("chatcmpl-k1", "żubr 🦬 ÅNGSTRÖM tail"), default);
        await store.Completions.AddAsync(Completion("chatcmpl-k2", large), default);
        await store.Completions.AddAsync(Completion("chatcmpl-k3", ""), default);
        await store.Completions.AddAsync(Completion("chatcmpl-k4", "żubr again"), default);

        Assert.Equal(["chatcmpl-k4", "chatcmpl-k1"], await store.SearchAsync("żubr"));
        Assert.Equal(["chatcmpl-k1"], await store.SearchAsync("ångström tail"));
        Assert.Equal(["chatcmpl-k2"], await store.SearchAsync("manatee"));
        Assert.Equal(["chatcmpl-k2"], await store.SearchAsync("w7999"));
        Assert.Equal(4, store.Mark());
    }

    [Fact]
    public async Task DeletingACompletion_TakesItsWordsOut_IndexedOrNot()
    {
        using var store = new Store(folder.File("b.db"));
        await store.Completions.AddAsync(Completion("chatcmpl-b1", "narwhal indexed"), default);
        await store.Search.CatchUpAsync();
        await store.Completions.AddAsync(Completion("chatcmpl-b2", "narwhal waiting"), default);

        Assert.True(await store.Completions.DeleteAsync(1, "chatcmpl-b1", default));
        Assert.True(await store.Completions.DeleteAsync(1, "chatcmpl-b2", default));

        Assert.Empty(await store.SearchAsync("narwhal"));
        Assert.Equal(0, store.Matches("narwhal"));
        await store.Completions.AddAsync(Completion("chatcmpl-b3", "narwhal kept"), default);
        Assert.Equal(["chatcmpl-b3"], await store.SearchAsync("narwhal"));
        Assert.Equal(1, store.Matches("narwhal"));
    }

    [Fact]
    public async Task ForgettingACompletionTheIndexNeverHeld_LeavesTheIndexWhole()
    {
        // A delete that commits after a catch-up read the store without it tells the index once the mark has passed
        // its seq: the index is asked to take out words it never had.
        using var store = new Store(folder.File("f.db"));
        await store.Completions.AddAsync(Completion("chatcmpl-f1", "sealion one"), default);
        await store.Completions.AddAsync(Completion("chatcmpl-f2", "sealion two"), default);
        await store.Completions.AddAsync(Completion("chatcmpl-f3", "sealion three"), default);
        Assert.True(await store.Completions.DeleteAsync(1, "chatcmpl-f2", default));
        await store.Search.CatchUpAsync();

        store.Search.Forget([2]);
        await store.Search.CatchUpAsync();

        Assert.Equal(["chatcmpl-f3", "chatcmpl-f1"], await store.SearchAsync("sealion"));
        Assert.Equal(2, store.Matches("sealion"));
        // FTS5's own check of the index's structure (it fails with SQLITE_CORRUPT_VTAB otherwise).
        using var index = new SqliteConnection($"Data Source={SqliteSearchIndex.PathFor(folder.File("f.db"))};Pooling=False");
        index.Open();
        SqliteSchema.Execute(index, "INSERT INTO completion_search(completion_search) VALUES('integrity-check')");
    }

    [Fact]
    public async Task ExpiredCompletions_LeaveTheIndexWithThem()
    {
        using var store = new Store(folder.File("e.db"));
        await store.Completions.AddAsync(Completion("chatcmpl-e1", "dugong old") with { Created = 1_000 }, default);
        await store.Completions.AddAsync(Completion("chatcmpl-e2", "dugong new"), default);
        await store.Search.CatchUpAsync();

        await store.Completions.PurgeAsync(DateTimeOffset.FromUnixTimeSeconds(2_000), 100, default);

        Assert.Equal(["chatcmpl-e2"], await store.SearchAsync("dugong"));
        Assert.Equal(0, store.Matches("old"));
    }

    [Fact]
    public async Task WordsWaitingAtARestart_AreReadFromTheStoredCompletions()
    {
        var file = folder.File("r.db");
        using (var before = new Store(file))
        {
            // Their texts wait in memory, which a stop (or a crash) loses; the index's mark is still below them.
            await before.Completions.AddAsync(Completion("chatcmpl-r1", "orca pod"), default);
            await before.Completions.AddAsync(Completion("chatcmpl-r2", "orca calf"), default);
            Assert.Equal(0, before.Mark());
        }

        using var after = new Store(file);
        Assert.Equal(["chatcmpl-r2", "chatcmpl-r1"], await after.SearchAsync("orca"));
        Assert.Equal(["chatcmpl-r2"], await after.SearchAsync("calf"));
        Assert.Equal(2, after.Mark());
    }

    [Fact]
    public async Task TheSearchIndex_MergesSixteenSegmentsALevel_NotFour()
    {
        using var store = new Store(folder.File("m.db"));
        // FTS5 keeps its settings in a shadow table; 4 (its default) made merging most of the indexing work.
        Assert.Equal(16L, store.Readers.Read(session => (long)session.Command("SELECT v FROM search.completion_search_config WHERE k = 'automerge'").ExecuteScalar()!, default));
    }

    [Fact]
    public async Task ACatchUp_IndexesABacklogLargerThanOneBatch()
    {
        using var store = new Store(folder.File("c.db"));
        var rows = SqliteSearchIndex.Batch * 2 + 7;
        await Task.WhenAll(Enumerable.Range(0, rows).Select(i => store.Completions.AddAsync(Completion($"chatcmpl-c{i}", $"beluga {i}"), default)));

        await store.Search.CatchUpAsync();

        Assert.Equal(rows, store.Matches("beluga"));
        Assert.Equal(rows, store.Mark());
    }

    [Fact]
    public async Task AStoreThatKeptItsOwnIndex_BringsItsIndexedAndWaitingWordsAlong()
    {
        // A store as Cairn left it before migration 10: the index in the store itself, and words still waiting in
        // completion_search_pending (as seqs whose texts lie in the stored rows).
        var file = folder.File("u.db");
        using (var sqlite = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            sqlite.Open();
            SqliteSchema.Migrate(sqlite, target: 9);
            for (var seq = 1; seq <= 3; seq++)
            {
                var id = $"chatcmpl-u{seq}";
                using var insert = sqlite.CreateCommand();
                insert.CommandText = """
                    INSERT INTO completions(seq, id, project_id, model, created, metadata, body) VALUES ($seq, $id, 1, 'echo', unixepoch(), '{}', $body);
                    INSERT INTO completion_messages(seq, idx, body) VALUES ($seq, 0, $message);
                    INSERT INTO completion_previews(seq, prompt, answer, prompt_tokens, completion_tokens) VALUES ($seq, 'p', 'a', 3, 2);
                    """;
                insert.Parameters.AddWithValue("$seq", seq);
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$body", Body(id, $"seal {seq} alone{seq}"));
                insert.Parameters.AddWithValue("$message", Message(id, $"seal {seq}"));
                insert.ExecuteNonQuery();
            }
            SqliteSchema.Execute(sqlite, """
                INSERT INTO completion_search(rowid, prompt, answer) VALUES (1, 'seal 1', 'seal 1 alone1');
                INSERT INTO completion_search_pending(seq, prompt, answer) VALUES (2, '', ''), (3, '', '');
                """);
        }

        using var store = new Store(file);
        Assert.Equal(1, store.Mark());
        Assert.Equal(["chatcmpl-u3", "chatcmpl-u2", "chatcmpl-u1"], await store.SearchAsync("seal"));
        Assert.Equal(["chatcmpl-u1"], await store.SearchAsync("alone1"));
        Assert.Equal(["chatcmpl-u3"], await store.SearchAsync("alone3"));
        Assert.Equal(3, store.Mark());
        Assert.Equal(0L, store.Readers.Read(session => (long)session.Command(
            "SELECT count(*) FROM main.sqlite_master WHERE name IN ('completion_search', 'completion_search_pending')").ExecuteScalar()!, default));
        Assert.Equal(16L, store.Readers.Read(session => (long)session.Command("SELECT v FROM search.completion_search_config WHERE k = 'automerge'").ExecuteScalar()!, default));
        if (OperatingSystem.IsLinux())
        {
            // The index holds the prompts' words: its owner's alone, as the store is.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SqliteSearchIndex.PathFor(file)));
        }
    }

    [Fact]
    public async Task ALostIndexFile_IsMadeAgainFromTheStore()
    {
        var file = folder.File("l.db");
        await StoreIndexedAsync(file, ("chatcmpl-l1", "manatee one"), ("chatcmpl-l2", "manatee two"));
        foreach (var index in Directory.GetFiles(Path.GetDirectoryName(file)!, "l.db-search*"))
        {
            File.Delete(index);
        }

        using var after = new Store(file);
        Assert.Equal(["chatcmpl-l2", "chatcmpl-l1"], await after.SearchAsync("manatee"));
    }

    [Fact]
    public async Task TheKeeper_WritesTheIndexUnsynced_WithThisBootBesideIt_UntilACleanClose()
    {
        if (SqliteSearchIndex.BootId() is not { } boot)
        {
            return; // the boot id is Linux's; elsewhere the index keeps syncing and no boot file is written
        }
        var file = folder.File("k.db");
        using (var store = new Store(file, keeper: true))
        {
            await store.Completions.AddAsync(Completion("chatcmpl-k1", "narwhal"), default);
            Assert.Equal(["chatcmpl-k1"], await store.SearchAsync("narwhal"));
            Assert.Equal(0L, store.Search.Synchronous);
            Assert.Equal(boot, File.ReadAllText(file + "-search-boot"));
        }
        Assert.False(File.Exists(file + "-search-boot"));

        using var again = new Store(file, keeper: true);
        Assert.Equal(1, again.Mark());
    }

    [Fact]
    public async Task AnIndexLeftUnsyncedByAnEarlierBoot_IsThrownAway_AndMadeAgainFromTheStore()
    {
        var file = folder.File("c.db");
        await StoreIndexedAsync(file, ("chatcmpl-c1", "okapi"), ("chatcmpl-c2", "okapi stripes"));
        LeaveAsACrashedSystemCould(file);

        using var after = new Store(file, keeper: true);
        Assert.Equal(0, after.Mark());
        Assert.Equal(["chatcmpl-c2", "chatcmpl-c1"], await after.SearchAsync("okapi"));
        Assert.Equal(2, after.Mark());
    }

    [Fact]
    public async Task AnIndexLeftUnsyncedInThisBoot_IsKept()
    {
        if (SqliteSearchIndex.BootId() is not { } boot)
        {
            return; // the boot id is Linux's
        }
        var file = folder.File("p.db");
        await StoreIndexedAsync(file, ("chatcmpl-p1", "pangolin"));
        // A keeper killed in this boot: the kernel kept what it wrote.
        File.WriteAllText(file + "-search-boot", boot);

        using var after = new Store(file, keeper: true);
        Assert.Equal(1, after.Mark());
    }

    [Fact]
    public void AnIndexOpenedBesideItsKeeper_KeepsSyncing_AndLeavesTheBootFileAsItFoundIt()
    {
        var file = folder.File("b.db");
        using (new Store(file))
        {
        }
        File.WriteAllText(file + "-search-boot", "another-boot");

        using (var beside = new Store(file))
        {
            Assert.Equal(1L, beside.Search.Synchronous);
        }
        Assert.Equal("another-boot", File.ReadAllText(file + "-search-boot"));
    }

    [Fact]
    public async Task AnIndexFileFromAnotherStore_IsNeverReadAsThisOnes()
    {
        var mine = folder.File("mine.db");
        var theirs = folder.File("theirs.db");
        using (var other = new Store(theirs))
        {
            await other.Completions.AddAsync(Completion("chatcmpl-t1", "otter"), default);
            await other.Search.CatchUpAsync();
        }
        using (var store = new Store(mine))
        {
            await store.Completions.AddAsync(Completion("chatcmpl-m1", "heron"), default);
        }
        File.Copy(SqliteSearchIndex.PathFor(theirs), SqliteSearchIndex.PathFor(mine), overwrite: true);

        using var after = new Store(mine);
        Assert.Empty(await after.SearchAsync("otter"));
        Assert.Equal(0, after.Matches("otter"));
        Assert.Equal(["chatcmpl-m1"], await after.SearchAsync("heron"));
    }

    [Fact]
    public async Task AStorePutBackFromABackup_GetsAnIndexOfWhatItHolds()
    {
        var file = folder.File("k.db");
        using (var store = new Store(file))
        {
            await store.Completions.AddAsync(Completion("chatcmpl-k1", "lynx one"), default);
        }
        using (var backup = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            backup.Open();
            SqliteSchema.Execute(backup, $"VACUUM INTO '{folder.File("backup.db")}'");
        }
        using (var store = new Store(file))
        {
            await store.Completions.AddAsync(Completion("chatcmpl-k2", "lynx two"), default);
            await store.Completions.AddAsync(Completion("chatcmpl-k3", "lynx three"), default);
            await store.Search.CatchUpAsync();
        }
        File.Copy(folder.File("backup.db"), file, overwrite: true);
        File.Delete(file + "-wal");
        File.Delete(file + "-shm");

        // The backup's newest seq is 1, so the next completion takes 2: the index's words for 2 ("lynx two") were of a
        // completion this store no longer holds, and must not make the new one match them.
        using var after = new Store(file);
        await after.Completions.AddAsync(Completion("chatcmpl-k4", "puma"), default);
        Assert.Equal(["chatcmpl-k1"], await after.SearchAsync("lynx"));
        Assert.Equal(["chatcmpl-k4"], await after.SearchAsync("puma"));
        Assert.Empty(await after.SearchAsync("two"));
    }

    [Fact]
    public async Task TheRunningServer_IndexesNewWordsInTheBackground()
    {
        var file = folder.File("d.db");
        await using (var server = await CairnServer.StartAsync("--db", file))
        {
            var http = server.Http;
            for (var i = 0; i < 3; i++)
            {
                using var response = await http.PostAsJsonAsync("/v1/chat/completions",
                    new { model = "echo", store = true, messages = new[] { new { role = "user", content = $"manatee {i}" } } });
                response.EnsureSuccessStatusCode();
            }
            Assert.Equal(3, await MarkOnceAsync(file, 3));
        }
        // Closed cleanly: the index is synced and no boot id is left beside it.
        Assert.False(File.Exists(file + "-search-boot"));

        // As a crash of the system could leave it: the server throws the index away, says so, and makes it again.
        LeaveAsACrashedSystemCould(file);
        using (var server = await CairnProcess.StartAsync(file))
        {
            Assert.Equal(3, await MarkOnceAsync(file, 3));
            Assert.Contains("The search index was left unsynced by a system that did not shut down cleanly", server.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>Stores <paramref name="completions"/> (id, words) in the store at <paramref name="file"/>, indexes them and closes it.</summary>
    private static async Task StoreIndexedAsync(string file, params (string Id, string Words)[] completions)
    {
        using var store = new Store(file);
        foreach (var (id, words) in completions)
        {
            await store.Completions.AddAsync(Completion(id, words), default);
        }
        await store.Search.CatchUpAsync();
    }

    /// <summary>What a crash of the system could leave: the boot id of another boot, and an index file that no longer opens.</summary>
    private static void LeaveAsACrashedSystemCould(string file)
    {
        File.WriteAllText(file + "-search-boot", "another-boot");
        File.WriteAllBytes(SqliteSearchIndex.PathFor(file), Encoding.UTF8.GetBytes(new string('x', 8192)));
    }

    /// <summary>The index file's mark once it reaches <paramref name="wanted"/>, or after ten seconds.</summary>
    private static async Task<long> MarkOnceAsync(string file, long wanted)
    {
        var indexed = 0L;
        for (var tries = 0; tries < 100 && indexed < wanted; tries++)
        {
            await Task.Delay(100);
            using var sqlite = new SqliteConnection($"Data Source={SqliteSearchIndex.PathFor(file)};Mode=ReadOnly;Pooling=False");
            sqlite.Open();
            using var mark = sqlite.CreateCommand();
            mark.CommandText = "SELECT seq FROM search_mark";
            indexed = (long)mark.ExecuteScalar()!;
        }
        return indexed;
    }

    public void Dispose() => folder.Dispose();
}
