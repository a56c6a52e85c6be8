using System.Text;
using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Cairn.Tests.Dashboard.ResponseDashboardStoreContract;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// The trace ids' migration (8 on SQLite, 7 on PostgreSQL) on a store that already holds completions and responses:
/// what was stored keeps its latency and has no trace id, and what is stored after carries its trace id.
/// </summary>
public sealed class TraceIdUpgradeTests : IDisposable
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";

    private readonly TempFolder folder = new();

    private static async Task<(string Completion, string Response)> StoreSomeAsync(CairnServer server)
    {
        var completion = Completion(5, null);
        await server.Services.GetRequiredService<ICompletionStore>().AddAsync(completion, default);
        var response = Response(Projects.Default, "echo", [], id => [UserMessage(id, "before the upgrade")], id => [Answer(id, "before")]);
        await server.Services.GetRequiredService<IResponseStore>().AddAsync(response, default);
        return (completion.Id, response.Id);
    }

    /// <summary>A completion as Cairn stores one, with this latency and trace id.</summary>
    internal static StoredCompletion Completion(long? latencyMs, string? traceId)
    {
        var id = global::Cairn.OpenAI.Ids.Completion();
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","object":"chat.completion","model":"echo","created":{{created}},"usage":{"total_tokens":3,"completion_tokens":1,"prompt_tokens":2},"metadata":{},"choices":[{"index":0,"message":{"content":"after","role":"assistant"},"finish_reason":"stop","logprobs":null}]}""");
        byte[][] messages = [Encoding.UTF8.GetBytes($$"""{"id":"{{id}}-0","role":"user","content":"after the upgrade","content_parts":null,"name":null}""")];
        return new StoredCompletion(Projects.Default, id, "echo", created, body, new Dictionary<string, string>(), messages) { LatencyMs = latencyMs, TraceId = traceId };
    }

    private static async Task AssertUpgradedAsync(CairnServer server, (string Completion, string Response) before)
    {
        var completions = server.Services.GetRequiredService<IDashboardStore>();
        var responses = server.Services.GetRequiredService<IResponseDashboard>();
        var oldCompletion = (await completions.GetAsync(Projects.Default, before.Completion, default))!;
        var oldResponse = (await responses.GetAsync(Projects.Default, before.Response, default))!;
        Assert.Equal((5L, null), (oldCompletion.LatencyMs, oldCompletion.TraceId));
        Assert.Equal((42L, null), (oldResponse.LatencyMs, oldResponse.TraceId));

        var completion = Completion(5, Trace);
        await server.Services.GetRequiredService<ICompletionStore>().AddAsync(completion, default);
        var response = Response(Projects.Default, "echo", [], id => [UserMessage(id, "after the upgrade")], id => [Answer(id, "after")]) with { TraceId = Trace };
        await server.Services.GetRequiredService<IResponseStore>().AddAsync(response, default);

        Assert.Equal(Trace, (await completions.GetAsync(Projects.Default, completion.Id, default))!.TraceId);
        Assert.Equal(Trace, (await responses.GetAsync(Projects.Default, response.Id, default))!.TraceId);
    }

    [Fact]
    public async Task OnSqlite_TheMigration_AddsTraceIds_KeepingWhatIsStored()
    {
        var file = folder.File("old.db");
        var server = await CairnServer.StartAsync("--db", file);
        var before = await StoreSomeAsync(server);
        await server.DisposeAsync();
        using (var sqlite = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            sqlite.Open();
            using var downgrade = sqlite.CreateCommand();
            downgrade.CommandText = "ALTER TABLE completion_previews DROP COLUMN trace_id; ALTER TABLE responses DROP COLUMN trace_id; PRAGMA user_version = 7;";
            downgrade.ExecuteNonQuery();
        }

        server = await CairnServer.StartAsync("--db", file);
        try
        {
            await AssertUpgradedAsync(server, before);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task OnPostgres_TheMigration_AddsTraceIds_KeepingWhatIsStored()
    {
        var server = new PostgresCairnServer();
        await server.InitializeAsync();
        try
        {
            var before = await StoreSomeAsync(server);
            await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
            await using (var downgrade = dataSource.CreateCommand("""
                ALTER TABLE completion_previews DROP COLUMN trace_id; ALTER TABLE responses DROP COLUMN trace_id;
                DELETE FROM cairn_schema WHERE version >= 7
                """))
            {
                await downgrade.ExecuteNonQueryAsync();
            }

            await PostgresSchema.MigrateAsync(dataSource, default);
            await AssertUpgradedAsync(server, before);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    public void Dispose() => folder.Dispose();
}
