using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// The indexes <c>cairn migrate</c> builds after the rows are in: one <c>CREATE INDEX</c> sorts what it indexes once,
/// where rows arriving one by one each update every index of their table (the dashboard's search index above all).
/// </summary>
internal static partial class SqliteToPostgres
{
    /// <summary>The tables the copy fills in bulk.</summary>
    private static readonly string[] BulkTables =
        ["completions", "completion_metadata", "completion_messages", "completion_previews", "responses", "response_items", "response_metadata", "response_previews"];

    /// <summary>
    /// On a database that holds no completion and no response yet: records the definitions of the bulk tables'
    /// non-unique indexes, as the schema's migrations made them, in <see cref="PostgresSchema.UnbuiltIndexes"/> and
    /// drops them, in one transaction. Primary keys and unique indexes stay: they check every copied row, and a resumed
    /// copy finds its place by them. The record marks the database unfinished until <see cref="BuildIndexesAsync"/>.
    /// </summary>
    public static async Task DeferIndexesAsync(NpgsqlConnection connection)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var fresh = new NpgsqlCommand($"""
            SELECT to_regclass('{PostgresSchema.UnbuiltIndexes}') IS NULL
                AND NOT EXISTS (SELECT 1 FROM completions) AND NOT EXISTS (SELECT 1 FROM responses)
            """, connection))
        {
            if (!(bool)(await fresh.ExecuteScalarAsync())!)
            {
                return;
            }
        }
        await using (var record = new NpgsqlBatch(connection))
        {
            record.BatchCommands.Add(new NpgsqlBatchCommand(
                $"CREATE TABLE {PostgresSchema.UnbuiltIndexes}(name text PRIMARY KEY, definition text NOT NULL)"));
            var names = new NpgsqlBatchCommand($"""
                INSERT INTO {PostgresSchema.UnbuiltIndexes}(name, definition)
                SELECT i.oid::regclass::text, pg_get_indexdef(i.oid)
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = ANY($1::regclass[]) AND NOT x.indisunique
                """);
            names.Parameters.Add(new NpgsqlParameter { Value = BulkTables });
            record.BatchCommands.Add(names);
            await record.ExecuteNonQueryAsync();
        }
        await using (var drop = new NpgsqlCommand($"""
            DO $$
            DECLARE index_name text;
            BEGIN
                FOR index_name IN SELECT name FROM {PostgresSchema.UnbuiltIndexes} LOOP
                    EXECUTE 'DROP INDEX ' || index_name;
                END LOOP;
            END $$
            """, connection))
        {
            await drop.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>
    /// Builds every index <see cref="DeferIndexesAsync"/> recorded, up to <paramref name="jobs"/> at a time, each in a
    /// transaction that also strikes it from the record (so an interrupted build resumes with the rest), with more
    /// memory for sorting than PostgreSQL's default gives; then drops the record, which finishes the database.
    /// </summary>
    public static async Task BuildIndexesAsync(NpgsqlDataSource dataSource, int jobs)
    {
        var unbuilt = new List<(string Name, string Definition)>();
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            if (!await PostgresSchema.UnfinishedAsync(connection, CancellationToken.None))
            {
                return;
            }
            await using var read = new NpgsqlCommand($"SELECT name, definition FROM {PostgresSchema.UnbuiltIndexes}", connection);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                unbuilt.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        await Parallel.ForEachAsync(unbuilt, new ParallelOptions { MaxDegreeOfParallelism = jobs }, async (index, cancellationToken) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var build = new NpgsqlBatch(connection) { Timeout = 0 };
            build.BatchCommands.Add(new NpgsqlBatchCommand($"""
                SELECT set_config('maintenance_work_mem',
                    greatest(pg_size_bytes(current_setting('maintenance_work_mem')), {BuildMemoryBytes}) / 1024 || 'kB', true)
                """));
            build.BatchCommands.Add(new NpgsqlBatchCommand(index.Definition));
            var done = new NpgsqlBatchCommand($"DELETE FROM {PostgresSchema.UnbuiltIndexes} WHERE name = $1");
            done.Parameters.Add(new NpgsqlParameter { Value = index.Name });
            build.BatchCommands.Add(done);
            await build.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await using var finish = new NpgsqlCommand($"DROP TABLE {PostgresSchema.UnbuiltIndexes}", connection);
            await finish.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The sort memory each index build is given at least (PostgreSQL's default is 64 MB).</summary>
    private const long BuildMemoryBytes = 256L * 1024 * 1024;
}
