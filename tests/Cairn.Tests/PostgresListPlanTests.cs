using System.Globalization;
using System.Text.Json;
using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Npgsql;

namespace Cairn.Tests;

/// <summary>
/// The API's list statements on PostgreSQL as the server runs them once they are prepared: after five executions it
/// may keep a generic plan, made without the values. A list must still walk the index its statement names, so that a
/// rare or absent value costs a few pages whatever the statistics say about the common ones.
/// </summary>
public sealed class PostgresListPlanTests
{
    private const int Rows = 20_000;

    /// <summary>
    /// A store of completions with tenant=t0, but for the oldest 20 (t9), and shard=s0 or s1: the statistics say a
    /// tenant matches half the rows, which is what a generic plan goes by for any value, t9 included.
    /// </summary>
    private static async Task<PostgresDataSources> SkewedStoreAsync()
    {
        var sources = PostgresConnect.Open(await (await PostgresServer.GetAsync()).CreateDatabaseAsync(), "test");
        await using var fill = sources.Unprepared.CreateCommand($$"""
            INSERT INTO completions(seq, id, project_id, model, created, metadata, body)
            SELECT i, 'chatcmpl-' || i, 1, 'echo', 0, '{}', convert_to(repeat('x', 1000), 'UTF8') FROM generate_series(1, {{Rows}}) i;
            INSERT INTO completion_metadata(project_id, key, value, seq)
            SELECT 1, 'tenant', CASE WHEN i <= 20 THEN 't9' ELSE 't0' END, i FROM generate_series(1, {{Rows}}) i
            UNION ALL SELECT 1, 'shard', 's' || (i % 2), i FROM generate_series(1, {{Rows}}) i;
            """);
        await fill.ExecuteNonQueryAsync();
        await using var vacuum = sources.Unprepared.CreateCommand("VACUUM (ANALYZE) completions, completion_metadata");
        await vacuum.ExecuteNonQueryAsync();
        return sources;
    }

    /// <summary>The list's statement under a generic plan: its plan, as EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) gives it.</summary>
    private static async Task<JsonElement> GenericPlanAsync(PostgresDataSources sources, CompletionQuery query)
    {
        await using var connection = await sources.Unprepared.OpenConnectionAsync();
        await using var list = PostgresListQuery.Command(connection, Projects.Default, query);
        var values = string.Join(", ", list.Parameters.Select(p => p.Value switch
        {
            string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
            var v => Convert.ToString(v, CultureInfo.InvariantCulture),
        }));
        await using (var prepare = new NpgsqlCommand($"SET plan_cache_mode = force_generic_plan; PREPARE list AS {list.CommandText}", connection))
        {
            await prepare.ExecuteNonQueryAsync();
        }
        await using var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE list({values})", connection);
        var json = (string)(await explain.ExecuteScalarAsync())!;
        return JsonDocument.Parse(json).RootElement[0].GetProperty("Plan");
    }

    private static long Blocks(JsonElement plan) => plan.GetProperty("Shared Hit Blocks").GetInt64() + plan.GetProperty("Shared Read Blocks").GetInt64();

    private static IEnumerable<JsonElement> Nodes(JsonElement plan) =>
        plan.TryGetProperty("Plans", out var children) ? children.EnumerateArray().SelectMany(Nodes).Prepend(plan) : [plan];

    [Fact]
    public async Task AListByARareValue_WalksItsOwnRows_UnderAGenericPlan()
    {
        await using var sources = await SkewedStoreAsync();

        // Walking storage order and checking each row would read every completion newer than the oldest 20.
        var plan = await GenericPlanAsync(sources, new CompletionQuery(null, [new("tenant", "t9")], null, 20, false));

        Assert.Equal(20, plan.GetProperty("Actual Rows").GetInt64());
        Assert.True(Blocks(plan) < 200, $"{Blocks(plan)} pages read");
    }

    [Fact]
    public async Task AListByTwoPairs_WalksThePairItIsGivenFirst_UnderAGenericPlan()
    {
        await using var sources = await SkewedStoreAsync();

        // The store puts the rarest pair first (PostgresListQuery.RarestFirstAsync); the plan must keep it there.
        var plan = await GenericPlanAsync(sources, new CompletionQuery(null, [new("tenant", "t9"), new("shard", "s0")], null, 20, false));

        var walk = Nodes(plan).First(n => n.GetProperty("Node Type").GetString()!.Contains("Index", StringComparison.Ordinal));
        Assert.Equal(("completion_metadata_pkey", "m0"), (walk.GetProperty("Index Name").GetString(), walk.GetProperty("Alias").GetString()));
        Assert.Equal(10, plan.GetProperty("Actual Rows").GetInt64());
        Assert.True(Blocks(plan) < 200, $"{Blocks(plan)} pages read");
    }
}
