using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Cairn.Tests.Dashboard.ResponseDashboardStoreContract;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// The responses' dashboard migration (6 on SQLite, 5 on PostgreSQL) on a store that already holds responses: their
/// metadata pairs and previews are made from what is stored.
/// </summary>
public sealed class ResponseDashboardUpgradeTests : IDisposable
{
    private readonly TempFolder folder = new();

    private static async Task<List<StoredResponse>> StoreSomeAsync(CairnServer server)
    {
        var store = server.Services.GetRequiredService<IResponseStore>();
        List<StoredResponse> stored =
        [
            Response(Projects.Default, "model-a", new() { ["user"] = "alice" },
                id => [UserMessage(id, "Be brief.", role: "developer"), UserMessage(id, "What is the weather in Oslo?")],
                id => [Call(id, "get_weather", """{"city":"Oslo"}""", "call_1")]),
            Response(Projects.Default, "model-b", new() { ["user"] = "bob" }, id => [UserMessage(id, "Hello")], id => [Answer(id, "Hello there")]),
        ];
        foreach (var response in stored)
        {
            await store.AddAsync(response, default);
        }
        return stored;
    }

    private static async Task AssertBackfilledAsync(IResponseDashboard dashboard, List<StoredResponse> stored)
    {
        var page = await dashboard.ListAsync(new ResponseFilter(Projects.Default, null, null), PageCursor.Newest, 10, default);
        Assert.Equal(stored.Select(r => r.Id).Reverse(), page.Rows.Select(r => r.Id));
        Assert.Equal(("Hello", "Hello there"), (page.Rows[0].Input, page.Rows[0].Output));
        Assert.Equal(("What is the weather in Oslo?", """get_weather({"city":"Oslo"})"""), (page.Rows[1].Input, page.Rows[1].Output));
        var alice = await dashboard.ListAsync(new ResponseFilter(Projects.Default, null, KeyValuePair.Create("user", "alice")), PageCursor.Newest, 10, default);
        Assert.Equal([stored[0].Id], alice.Rows.Select(r => r.Id));
        Assert.Equal(["model-a", "model-b"], await dashboard.ModelsAsync(Projects.Default, default));
    }

    [Fact]
    public async Task OnSqlite_TheMigration_FillsTheDashboardsRowsFromWhatIsStored()
    {
        var file = folder.File("old.db");
        var before = await CairnServer.StartAsync("--db", file);
        var stored = await StoreSomeAsync(before);
        await before.DisposeAsync();
        using (var sqlite = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            sqlite.Open();
            using var downgrade = sqlite.CreateCommand();
            downgrade.CommandText = """
                DROP TABLE response_metadata; DROP TABLE response_previews; DROP INDEX responses_by_project; DROP INDEX responses_by_model;
                DROP TABLE deleted_responses; DROP TRIGGER responses_not_deleted;
                ALTER TABLE responses DROP COLUMN trace_id; ALTER TABLE completion_previews DROP COLUMN trace_id; PRAGMA user_version = 5;
                """;
            downgrade.ExecuteNonQuery();
        }

        var after = await CairnServer.StartAsync("--db", file);
        try
        {
            await AssertBackfilledAsync(after.Services.GetRequiredService<IResponseDashboard>(), stored);
        }
        finally
        {
            await after.DisposeAsync();
        }
    }

    [Fact]
    public async Task OnPostgres_TheMigration_FillsTheDashboardsRowsFromWhatIsStored()
    {
        var server = new PostgresCairnServer();
        await server.InitializeAsync();
        try
        {
            var stored = await StoreSomeAsync(server);
            await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
            await using (var downgrade = dataSource.CreateCommand("""
                DROP TABLE response_metadata, response_previews; DROP INDEX responses_by_project, responses_by_model;
                DROP TABLE deleted_responses; DROP TRIGGER responses_not_deleted ON responses; DROP FUNCTION responses_not_deleted();
                ALTER TABLE responses DROP COLUMN trace_id; ALTER TABLE completion_previews DROP COLUMN trace_id;
                DELETE FROM cairn_schema WHERE version >= 5
                """))
            {
                await downgrade.ExecuteNonQueryAsync();
            }

            await PostgresSchema.MigrateAsync(dataSource, default);
            await AssertBackfilledAsync(server.Services.GetRequiredService<IResponseDashboard>(), stored);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    public void Dispose() => folder.Dispose();
}
