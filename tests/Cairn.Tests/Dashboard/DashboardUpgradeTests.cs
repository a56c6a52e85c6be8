using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenAI.Chat;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// Migration 3 on a store that already holds completions (as one upgraded from an earlier Cairn): their previews,
/// search words and rollup rows are made from the stored bodies and messages, on SQLite and on PostgreSQL.
/// </summary>
public sealed class DashboardUpgradeTests : IDisposable
{
    private readonly TempFolder folder = new();

    private static async Task<List<string>> StoreSomeAsync(CairnServer server)
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await server.Chat().CompleteChatAsync([new SystemChatMessage("sys"), new UserChatMessage($"before the upgrade {i} zebra{i}")],
                new ChatCompletionOptions { StoredOutputEnabled = true })).Value.Id);
        }
        return ids;
    }

    private static async Task AssertBackfilledAsync(IDashboardStore dashboard, List<string> ids)
    {
        var page = await dashboard.ListAsync(new DashboardFilter(1, null, [], null, null, null), PageCursor.Newest, 10, default);
        Assert.Equal(ids.AsEnumerable().Reverse(), page.Rows.Select(r => r.Id));
        Assert.Equal("before the upgrade 2 zebra2", page.Rows[0].Prompt);
        Assert.Equal("before the upgrade 2 zebra2", page.Rows[0].Answer);
        Assert.True(page.Rows[0].PromptTokens > 0);
        var found = await dashboard.ListAsync(new DashboardFilter(1, null, [], null, null, "zebra1"), PageCursor.Newest, 10, default);
        Assert.Equal([ids[1]], found.Rows.Select(r => r.Id));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var usage = await dashboard.UsageAsync(1, now - 7200, now + 7200, default);
        Assert.Equal(3, usage.Sum(p => p.Requests));
    }

    [Fact]
    public async Task OnSqlite_MigrationThree_FillsTheDashboardsRowsFromWhatIsStored()
    {
        var file = folder.File("old.db");
        var before = await CairnServer.StartAsync("--db", file);
        var ids = await StoreSomeAsync(before);
        await before.DisposeAsync();
        // Back to schema 2, as a file from before the dashboard was.
        using (var sqlite = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            sqlite.Open();
            using var downgrade = sqlite.CreateCommand();
            downgrade.CommandText = """
                DROP TABLE completion_previews; DROP TABLE completion_rollup;
                DROP TABLE responses; DROP TABLE response_items; DROP TABLE response_metadata; DROP TABLE response_previews;
                DROP TABLE deleted_responses; PRAGMA user_version = 2;
                """;
            downgrade.ExecuteNonQuery();
        }

        var after = await CairnServer.StartAsync("--db", file);
        try
        {
            await AssertBackfilledAsync(after.Services.GetRequiredService<IDashboardStore>(), ids);
        }
        finally
        {
            await after.DisposeAsync();
        }
    }

    [Fact]
    public async Task OnPostgres_MigrationThree_FillsTheDashboardsRowsFromWhatIsStored()
    {
        var server = new PostgresCairnServer();
        await server.InitializeAsync();
        try
        {
            var ids = await StoreSomeAsync(server);
            await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
            await using (var downgrade = dataSource.CreateCommand("""
                DROP TABLE completion_previews; DROP TABLE completion_rollup;
                DROP TABLE responses; DROP TABLE response_items; DROP TABLE response_metadata; DROP TABLE response_previews;
                DROP TABLE deleted_responses; DROP FUNCTION responses_not_deleted();
                DELETE FROM cairn_schema WHERE version >= 3
                """))
            {
                await downgrade.ExecuteNonQueryAsync();
            }

            await PostgresSchema.MigrateAsync(dataSource, default);
            await AssertBackfilledAsync(server.Services.GetRequiredService<IDashboardStore>(), ids);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    public void Dispose() => folder.Dispose();
}
