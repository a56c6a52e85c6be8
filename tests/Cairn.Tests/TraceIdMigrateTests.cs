using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using static Cairn.Tests.Dashboard.TraceIdUpgradeTests;
using static Cairn.Tests.Infrastructure.ResponseChains;

namespace Cairn.Tests;

/// <summary><c>cairn migrate</c> copies what the dashboard keeps beside the stored objects: trace ids, and a completion's latency.</summary>
public sealed class TraceIdMigrateTests : IDisposable
{
    private const string Trace = "0af7651916cd43dd8448eb211c80319c";

    private readonly TempFolder folder = new();

    [Fact]
    public async Task Migrate_CopiesTraceIdsAndLatencies_OfCompletionsAndResponses()
    {
        var file = folder.File("traced.db");
        StoredCompletion traced, timed, bare;
        StoredResponse tracedResponse, bareResponse;
        using (var writer = new SqliteWriter($"Data Source={file};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance))
        using (var readers = new SqliteReaders($"Data Source={file};Pooling=False", 1))
        {
            using var search = new SqliteSearchIndex(file, readers, TestStoreMetrics.Sqlite());
            var completions = new SqliteCompletionStore(writer, readers, search);
            (traced, timed, bare) = (Completion(120, Trace), Completion(7, null), Completion(null, null));
            foreach (var completion in new[] { traced, timed, bare })
            {
                await completions.AddAsync(completion, default);
            }
            var chains = new ResponseChains(new SqliteResponseStore(writer, readers));
            tracedResponse = await chains.AddAsync(Turn("traced", previous: null) with { TraceId = Trace });
            bareResponse = await chains.AddAsync(Turn("bare", previous: null));
        }
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        var migrate = await CairnCommand.RunAsync("migrate", "--from", file, "--to", database);

        Assert.True(migrate.Exit == 0, migrate.Stderr);
        await using var sources = PostgresConnect.Open(database, "test");
        await using var postgresWriter = new PostgresWriter(sources.Prepared, new StorageOptions(), TestStoreMetrics.Postgres(), NullLogger<PostgresWriter>.Instance);
        var dashboard = new PostgresDashboardStore(sources);
        var copied = new List<(long?, string?)>();
        foreach (var completion in new[] { traced, timed, bare })
        {
            var detail = (await dashboard.GetAsync(Projects.Default, completion.Id, default))!;
            copied.Add((detail.LatencyMs, detail.TraceId));
        }
        Assert.Equal([(120L, Trace), (7L, null), (null, null)], copied);
        IResponseDashboard responses = new PostgresResponseStore(sources, postgresWriter);
        var tracedDetail = (await responses.GetAsync(Projects.Default, tracedResponse.Id, default))!;
        var bareDetail = (await responses.GetAsync(Projects.Default, bareResponse.Id, default))!;
        Assert.Equal([(12L, Trace), (12L, null)], [(tracedDetail.LatencyMs, tracedDetail.TraceId), (bareDetail.LatencyMs, bareDetail.TraceId)]);
    }

    public void Dispose() => folder.Dispose();
}
