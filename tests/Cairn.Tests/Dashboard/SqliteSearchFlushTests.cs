using System.Net.Http.Json;
using System.Text;
using Cairn.Storage;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// SQLite's search words wait in a table and reach the full-text index in batches: a text search still finds
/// everything stored before it, deletes take words out wherever they are, and the background flush empties the table.
/// </summary>
public sealed class SqliteSearchFlushTests : IDisposable
{
    private readonly TempFolder folder = new();

    private sealed class Store : IDisposable
    {
        public Store(string file)
        {
            Writer = new SqliteWriter($"Data Source={file};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);
            Readers = new SqliteReaders($"Data Source={file};Mode=ReadOnly;Pooling=False", 2);
            Completions = new SqliteCompletionStore(Writer, Readers);
            Dashboard = new SqliteDashboardStore(Readers, Completions);
        }

        public SqliteWriter Writer { get; }
        public SqliteReaders Readers { get; }
        public SqliteCompletionStore Completions { get; }
        public SqliteDashboardStore Dashboard { get; }

        public Task<long> CountAsync(string table) => Writer.WriteAsync(w => (long)w.Command($"SELECT count(*) FROM {table}").ExecuteScalar()!);

        public async Task<List<string>> SearchAsync(string text) =>
            [.. (await Dashboard.ListAsync(new DashboardFilter(1, null, [], null, null, text), PageCursor.Newest, 50, default)).Rows.Select(r => r.Id)];

        public void Dispose()
        {
            Writer.Dispose();
            Readers.Dispose();
        }
    }

    private static StoredCompletion Completion(string id, string words) => new(1, id, "echo", DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","object":"chat.completion","model":"echo","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5},"metadata":{},"choices":[{"index":0,"message":{"role":"assistant","content":"{{words}}"},"finish_reason":"stop","logprobs":null}]}"""),
        new Dictionary<string, string>(),
        [Encoding.UTF8.GetBytes($$"""{"id":"{{id}}-0","role":"user","content":"{{words}}","content_parts":null,"name":null}""")]);

    [Fact]
    public async Task WordsWaitUntilFlushed_YetASearchRightAfterStoringFindsThem()
    {
        using var store = new Store(folder.File("a.db"));
        await store.Completions.AddAsync(Completion("chatcmpl-a1", "walrus tusk"), default);
        await store.Completions.AddAsync(Completion("chatcmpl-a2", "walrus whiskers"), default);

        Assert.Equal(2, await store.CountAsync("completion_search_pending"));
        Assert.Equal(["chatcmpl-a2", "chatcmpl-a1"], await store.SearchAsync("walrus"));
        Assert.Equal(0, await store.CountAsync("completion_search_pending"));
        Assert.Equal(["chatcmpl-a1"], await store.SearchAsync("tusk"));
    }

    [Fact]
    public async Task DeletingACompletion_TakesItsWordsOut_WaitingOrIndexed()
    {
        using var store = new Store(folder.File("b.db"));
        await store.Completions.AddAsync(Completion("chatcmpl-b1", "narwhal indexed"), default);
        await store.Completions.FlushSearchAsync();
        await store.Completions.AddAsync(Completion("chatcmpl-b2", "narwhal waiting"), default);

        Assert.True(await store.Completions.DeleteAsync(1, "chatcmpl-b1", default));
        Assert.True(await store.Completions.DeleteAsync(1, "chatcmpl-b2", default));

        Assert.Equal(0, await store.CountAsync("completion_search_pending"));
        Assert.Empty(await store.SearchAsync("narwhal"));
        await store.Completions.AddAsync(Completion("chatcmpl-b3", "narwhal kept"), default);
        Assert.Equal(["chatcmpl-b3"], await store.SearchAsync("narwhal"));
    }

    [Fact]
    public async Task WordsWaitingAtARestart_AreReadFromTheStoredCompletions()
    {
        var file = folder.File("r.db");
        using (var before = new Store(file))
        {
            // Their texts wait in memory, and the pending rows hold only their seqs: a stop (or a crash) loses that memory.
            await before.Completions.AddAsync(Completion("chatcmpl-r1", "orca pod"), default);
            await before.Completions.AddAsync(Completion("chatcmpl-r2", "orca calf"), default);
            Assert.Equal(2, await before.CountAsync("completion_search_pending"));
        }

        using var after = new Store(file);
        Assert.Equal(["chatcmpl-r2", "chatcmpl-r1"], await after.SearchAsync("orca"));
        Assert.Equal(["chatcmpl-r2"], await after.SearchAsync("calf"));
        Assert.Equal(0, await after.CountAsync("completion_search_pending"));
    }

    [Fact]
    public async Task TheSearchIndex_MergesSixteenSegmentsALevel_NotFour()
    {
        using var store = new Store(folder.File("m.db"));
        // FTS5 keeps its settings in a shadow table; 4 (its default) made merging most of the writer's indexing work.
        Assert.Equal(16L, await store.Writer.WriteAsync(w => (long)w.Command("SELECT v FROM completion_search_config WHERE k = 'automerge'").ExecuteScalar()!));
    }

    [Fact]
    public async Task AFlush_MovesABacklogLargerThanOneBatch()
    {
        using var store = new Store(folder.File("c.db"));
        var rows = SqliteCompletionStore.SearchFlushBatch * 2 + 7;
        await store.Writer.WriteAsync(w => w.Command($"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
            INSERT INTO completion_search_pending(seq, prompt, answer) SELECT 1000000 + i, 'beluga ' || i, 'pod' FROM n
            """).ExecuteNonQuery());

        await store.Completions.FlushSearchAsync();

        Assert.Equal(0, await store.CountAsync("completion_search_pending"));
        Assert.Equal(rows, await store.Writer.WriteAsync(w => (long)w.Command("SELECT count(*) FROM completion_search WHERE completion_search MATCH 'beluga'").ExecuteScalar()!));
    }

    [Fact]
    public async Task TheRunningServer_MovesWaitingWordsInTheBackground()
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
            var waiting = long.MaxValue;
            for (var tries = 0; tries < 100 && waiting > 0; tries++)
            {
                await Task.Delay(100);
                using var sqlite = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
                sqlite.Open();
                using var count = sqlite.CreateCommand();
                count.CommandText = "SELECT count(*) FROM completion_search_pending";
                waiting = (long)count.ExecuteScalar()!;
            }
            Assert.Equal(0, waiting);
        }
    }

    public void Dispose() => folder.Dispose();
}
