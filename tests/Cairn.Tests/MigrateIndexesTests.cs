using Cairn.Configuration;
using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Cairn.Tests.Dashboard.TraceIdUpgradeTests;
using static Cairn.Tests.Infrastructure.ResponseChains;

namespace Cairn.Tests;

/// <summary>
/// <c>cairn migrate</c> builds a fresh database's secondary indexes after the rows: it ends with exactly the schema
/// Cairn's own migrations make, Cairn refuses a database it has not finished, and running it again finishes it.
/// </summary>
public sealed class MigrateIndexesTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task Migrate_EndsWithTheSchemaCairnMakes_AndTheSearchWordsOfWhatItCopied()
    {
        var file = await SqliteStoreAsync();
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        var migrate = await CairnCommand.RunAsync("migrate", "--from", file, "--to", database);

        Assert.True(migrate.Exit == 0, migrate.Stderr);
        Assert.Contains("indexes built", migrate.Stderr, StringComparison.Ordinal);
        Assert.Equal(await SchemaAsync(await ReferenceAsync()), await SchemaAsync(database));
        // Prompt words weigh A, answer words B, as a create's.
        Assert.Equal(3L, await ScalarAsync(database, "SELECT count(*) FROM completion_previews WHERE search @@ to_tsquery('simple', 'upgrade:A')"));
        Assert.Equal(3L, await ScalarAsync(database, "SELECT count(*) FROM completion_previews WHERE search @@ to_tsquery('simple', 'after:B')"));
        Assert.NotNull(await ScalarAsync(database, "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'completions'"));
    }

    [Fact]
    public async Task AMigrateStoppedBeforeItsIndexes_IsRefusedByCairn_UntilMigrateRunsAgainAndBuildsThem()
    {
        var file = await SqliteStoreAsync();
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        await using (var sources = PostgresConnect.Open(database, "test", forMigrate: true))
        await using (var connection = await sources.Unprepared.OpenConnectionAsync())
        {
            // What a migrate does first on a fresh database; then it stops.
            await SqliteToPostgres.DeferIndexesAsync(connection);
        }

        var refused = Assert.Throws<OptionsException>(() => PostgresConnect.Open(database, "test"));
        var command = await CairnCommand.RunAsync("keys", "list", "--postgres", database);
        var migrate = await CairnCommand.RunAsync("migrate", "--from", file, "--to", database);

        Assert.Contains("cairn migrate has not finished", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, command.Exit);
        Assert.Contains("cairn migrate has not finished", command.Stderr, StringComparison.Ordinal);
        Assert.True(migrate.Exit == 0, migrate.Stderr);
        Assert.Equal(await SchemaAsync(await ReferenceAsync()), await SchemaAsync(database));
    }

    [Fact]
    public async Task AMigrateStoppedAmongItsIndexBuilds_BuildsTheRestWhenRunAgain()
    {
        var file = await SqliteStoreAsync();
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        Assert.Equal(0, (await CairnCommand.RunAsync("migrate", "--from", file, "--to", database)).Exit);
        // As a stop after every index but the search index was built.
        await ScalarAsync(database, $"""
            CREATE TABLE {PostgresSchema.UnbuiltIndexes}(name text PRIMARY KEY, definition text NOT NULL);
            INSERT INTO {PostgresSchema.UnbuiltIndexes} SELECT indexname, indexdef FROM pg_indexes WHERE indexname = 'completion_previews_search';
            DROP INDEX completion_previews_search;
            """);

        var refused = Assert.Throws<OptionsException>(() => PostgresConnect.Open(database, "test"));
        var again = await CairnCommand.RunAsync("migrate", "--from", file, "--to", database);

        Assert.Contains("cairn migrate has not finished", refused.Message, StringComparison.Ordinal);
        Assert.True(again.Exit == 0, again.Stderr);
        Assert.Contains("every count matches", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(await SchemaAsync(await ReferenceAsync()), await SchemaAsync(database));
    }

    /// <summary>A SQLite store with three completions (the prompt "after the upgrade", the answer "after") and a response chain.</summary>
    private async Task<string> SqliteStoreAsync()
    {
        var file = folder.File("store.db");
        using var writer = new SqliteWriter($"Data Source={file};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);
        using var readers = new SqliteReaders($"Data Source={file};Pooling=False", 1);
        using var search = new SqliteSearchIndex(file, readers, TestStoreMetrics.Sqlite());
        var completions = new SqliteCompletionStore(writer, readers, search);
        foreach (var completion in new[] { Completion(5, null), Completion(null, null), Completion(7, null) })
        {
            await completions.AddAsync(completion, default);
        }
        await new ResponseChains(new SqliteResponseStore(writer, readers)).ChainAsync(3);
        return file;
    }

    /// <summary>A database whose schema Cairn's migrations made, as a server's start makes it.</summary>
    private static async Task<string> ReferenceAsync()
    {
        var reference = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        await using var sources = PostgresConnect.Open(reference, "test");
        return reference;
    }

    /// <summary>Every table, column, index, constraint, trigger and table option of the database, one line each.</summary>
    private static async Task<string> SchemaAsync(string database) => (string)(await ScalarAsync(database, """
        SELECT string_agg(line, E'\n' ORDER BY line) FROM (
            SELECT format('column %s.%s %s %s %s %s', table_name, column_name, data_type, is_nullable, column_default, collation_name) AS line
            FROM information_schema.columns WHERE table_schema = 'public'
            UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL SELECT format('trigger %s %s', tgrelid::regclass, pg_get_triggerdef(oid)) FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL SELECT format('table %s %s', relname, reloptions) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
            UNION ALL SELECT format('storage %s.%s %s', attrelid::regclass, attname, attstorage) FROM pg_attribute
            WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r') AND attnum > 0
        ) schema
        """))!;

    private static async Task<object?> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public void Dispose() => folder.Dispose();
}
