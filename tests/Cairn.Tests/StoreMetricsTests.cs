using System.Diagnostics.Metrics;
using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using OpenAI.Responses;

namespace Cairn.Tests;

/// <summary>The SQLite store's meters on a real server, with what only SQLite has: search flushes and checkpoints.</summary>
public sealed class SqliteStoreMetricsTests(CairnServer server) : StoreMetricsContract(server, StoreMetrics.Sqlite), IClassFixture<CairnServer>
{
    private protected override CairnServer NewPurgingServer() => new FastPurgeSqliteServer();

    private protected override Task<CairnProcess> StartProcessAsync(TempFolder folder) => CairnProcess.StartAsync(folder.File("metrics.db"));

    [Fact]
    public async Task StoredCompletions_AreTimedIntoTheSearchIndex_AndTheLogIsCheckpointed()
    {
        using var measured = Listen();

        await StoreTrafficAsync(completions: 3, responses: 0);

        await MeterRecorder.UntilAsync(() => measured.Sum("cairn.store.search.flush.rows") >= 3, "the search rows to be flushed");
        await MeterRecorder.UntilAsync(() => measured.Of("cairn.store.checkpoint.duration").Count > 0, "a checkpoint");
        Assert.All(measured.Of("cairn.store.search.flush.duration"), m => Assert.InRange(m.Value, 0, 60));
        Assert.All(measured.Of("cairn.store.checkpoint.duration"), m => Assert.InRange(m.Value, 0, 60));
        Assert.All(measured.Of("cairn.store.checkpoint.duration"), m => Assert.Equal(StoreMetrics.Sqlite, m.Tags["cairn.store"]));
    }

    [Fact]
    public async Task Metrics_ServesSqlitesUpkeepSeries()
    {
        string[] series = ["cairn_store_search_flush_duration_seconds_count{", "cairn_store_search_flush_rows_total{", "cairn_store_checkpoint_duration_seconds_count{"];
        await StoreTrafficAsync(completions: 1, responses: 0);

        // The search flush and the checkpointer run every 200 and 250 ms.
        var text = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!series.All(s => text.Contains(s, StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            text = await Server.Http.GetStringAsync("/metrics");
        }

        Assert.All(series, s => Assert.Contains(s, text, StringComparison.Ordinal));
    }
}

/// <summary>The PostgreSQL store's meters on a real server, with Npgsql's own connection pool instruments beside them.</summary>
public sealed class PostgresStoreMetricsTests(PostgresCairnServer server) : StoreMetricsContract(server, StoreMetrics.Postgres), IClassFixture<PostgresCairnServer>
{
    private protected override CairnServer NewPurgingServer() => new FastPurgePostgresServer();

    private protected override async Task<CairnProcess> StartProcessAsync(TempFolder folder) =>
        await CairnProcess.StartOnPostgresAsync(await (await PostgresServer.GetAsync()).CreateDatabaseAsync());

    [Fact]
    public async Task Metrics_ServesNpgsqlsConnectionPoolSeries()
    {
        await StoreTrafficAsync(completions: 1, responses: 0);

        var text = await Server.Http.GetStringAsync("/metrics");

        var lines = text.Split('\n');
        foreach (var series in new[] { "db_client_connection_count{", "db_client_connection_max{", "db_client_operation_duration_seconds_count{" })
        {
            // Each pool is named by the application name (cairn), not by its connection string.
            Assert.Contains(lines, l => l.StartsWith(series, StringComparison.Ordinal) && l.Contains("db_client_connection_pool_name=\"cairn\"", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith(series, StringComparison.Ordinal) && l.Contains("db_client_connection_pool_name=\"cairn-unprepared\"", StringComparison.Ordinal));
        }
    }
}

/// <summary>
/// The store's meters on a real server, whatever the store: stored traffic through the official client is counted in
/// group commits, expired objects in retention sweeps, and <c>/metrics</c> serves the <c>cairn_store_*</c> series.
/// </summary>
public abstract class StoreMetricsContract(CairnServer server, string store)
{
    private protected CairnServer Server => server;

    /// <summary>A server of its own that purges often: a purge walks storage order from its start, so it must hold only what a test puts there.</summary>
    private protected abstract CairnServer NewPurgingServer();

    /// <summary>A server in a process of its own, on a store of its own.</summary>
    private protected abstract Task<CairnProcess> StartProcessAsync(TempFolder folder);

    private protected MeterRecorder Listen() => Listen(server);

    private static MeterRecorder Listen(CairnServer server) => new(server.Services.GetRequiredService<IMeterFactory>(), MeterRecorder.StoreInstruments);

    private protected Task StoreTrafficAsync(int completions, int responses) => StoreTrafficAsync(server.BaseUrl, completions, responses);

    /// <summary>Stored completions and responses made through the official clients on the server at <paramref name="baseUrl"/>.</summary>
    private static async Task StoreTrafficAsync(Uri baseUrl, int completions, int responses)
    {
        var chat = new ChatClient("echo", new System.ClientModel.ApiKeyCredential("sk-test"), new global::OpenAI.OpenAIClientOptions { Endpoint = new Uri(baseUrl, "/v1") });
        for (var i = 0; i < completions; i++)
        {
            await chat.CompleteChatAsync([new UserChatMessage($"remember {i}")], new ChatCompletionOptions { StoredOutputEnabled = true });
        }
        var client = new ResponsesClient(new System.ClientModel.ApiKeyCredential("sk-test"), new ResponsesClientOptions { Endpoint = new Uri(baseUrl, "/v1") });
        for (var i = 0; i < responses; i++)
        {
            await client.CreateResponseAsync(new CreateResponseOptions("echo", [ResponseItem.CreateUserMessageItem($"remember {i}")]));
        }
    }

    [Fact]
    public async Task StoredTraffic_IsCountedInGroupCommits_OfThisStore()
    {
        using var measured = Listen();

        await StoreTrafficAsync(completions: 4, responses: 2);

        // The answers go once their writes commit; the commit is recorded just after.
        await MeterRecorder.UntilAsync(() => measured.Sum("cairn.store.commit.batch_size") >= 6, "six stored writes in the group commits");
        var durations = measured.Of("cairn.store.commit.duration");
        Assert.NotEmpty(durations);
        Assert.All(durations, m => Assert.InRange(m.Value, 0, 60));
        Assert.All(measured.Of("cairn.store.commit.batch_size"), m => Assert.InRange(m.Value, 1, new StorageOptions().MaxBatch));
        Assert.Empty(measured.Of("cairn.store.commit.failures"));

        var depth = Assert.Single(measured.Observe("cairn.store.queue.depth"));
        Assert.InRange(depth.Value, 0, 1_000);
        Assert.All(measured.Of("cairn.store.commit.batch_size").Concat(durations).Append(depth), m => Assert.Equal(store, m.Tags["cairn.store"]));
    }

    [Fact]
    public async Task ExpiredCompletionsAndResponses_AreCountedAsRemoved_BySweeps()
    {
        var purging = NewPurgingServer();
        await purging.InitializeAsync();
        try
        {
            using var measured = Listen(purging);
            var expiredAt = (DateTimeOffset.UtcNow - TimeSpan.FromDays(31)).ToUnixTimeSeconds();
            var completions = purging.Services.GetRequiredService<ICompletionStore>();
            for (var i = 0; i < 4; i++)
            {
                await completions.AddAsync(StoreContract.Completion(Ids.Completion(), new Dictionary<string, string>(), created: expiredAt), default);
            }
            await new ResponseChains(purging.Services.GetRequiredService<IResponseStore>()).ChainAsync(2, createdAt: ResponseChains.LongAgo);

            await MeterRecorder.UntilAsync(
                () => measured.Sum("cairn.store.retention.removed", ("cairn.api", StoreMetrics.Completions)) >= 4
                    && measured.Sum("cairn.store.retention.removed", ("cairn.api", StoreMetrics.Responses)) >= 2,
                "the expired completions and responses to be removed");

            Assert.Equal(4, measured.Sum("cairn.store.retention.removed", ("cairn.api", StoreMetrics.Completions)));
            Assert.Equal(2, measured.Sum("cairn.store.retention.removed", ("cairn.api", StoreMetrics.Responses)));
            await MeterRecorder.UntilAsync(() => measured.Of("cairn.store.retention.duration").Count > 0, "a sweep to end");
            Assert.All(measured.Of("cairn.store.retention.duration"), m =>
            {
                Assert.Equal(store, m.Tags["cairn.store"]);
                Assert.False(m.Tags.ContainsKey("error.type"));
            });
        }
        finally
        {
            await purging.DisposeAsync();
        }
    }

    [Fact]
    public async Task Metrics_ServesTheStoreSeries_AfterStoredTraffic()
    {
        // A process of its own: servers in this one register the same instruments with every exporter here (a meter
        // provider takes meters by name), and one of them disposed can take a series off the others' exporters.
        using var folder = new TempFolder();
        using var process = await StartProcessAsync(folder);
        await StoreTrafficAsync(process.BaseUrl, completions: 2, responses: 1);

        var label = $"cairn_store=\"{store}\"";
        string[] expected =
        [
            "cairn_store_queue_depth{", "cairn_store_commit_batch_size_bucket{", "cairn_store_commit_batch_size_sum{",
            "cairn_store_commit_duration_seconds_bucket{", "cairn_store_commit_duration_seconds_count{",
            "cairn_store_retention_duration_seconds_count{", "cairn_store_retention_removed_total{",
        ];
        bool Serves(string[] lines, string series) => lines.Any(l => l.StartsWith(series, StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        // The first retention sweep runs in the background from the start; on a loaded machine it may finish after the traffic.
        using var http = new HttpClient { BaseAddress = process.BaseUrl };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var lines = (await http.GetStringAsync("/metrics")).Split('\n');
        while (!expected.All(series => Serves(lines, series)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            lines = (await http.GetStringAsync("/metrics")).Split('\n');
        }
        foreach (var series in expected)
        {
            Assert.True(Serves(lines, series), $"/metrics lacks {series}…{label}");
        }
    }
}
