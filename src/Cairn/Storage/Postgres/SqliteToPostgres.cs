using System.Globalization;
using Cairn.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Cairn.Storage.Postgres;

/// <summary>
/// The copying half of <c>cairn migrate</c>: rows read from SQLite in storage order and written to PostgreSQL with
/// binary COPY, a chunk per transaction, seqs kept (completions, then responses).
/// </summary>
internal static partial class SqliteToPostgres
{
    public const int Chunk = 2_000;

    /// <summary>Projects (with their limits) and API keys, as they are; what is already there is kept.</summary>
    public static async Task CopyProjectsAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        using (var read = sqlite.CreateCommand())
        {
            read.CommandText = "SELECT id, public_id, name, created, requests_per_minute, tokens_per_minute FROM projects";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                await using var insert = new NpgsqlCommand("""
                    INSERT INTO projects(id, public_id, name, created, requests_per_minute, tokens_per_minute)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
                    """, connection);
                PostgresBinding.Add(insert, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                    reader.IsDBNull(4) ? DBNull.Value : reader.GetInt64(4), reader.IsDBNull(5) ? DBNull.Value : reader.GetInt64(5));
                await insert.ExecuteNonQueryAsync();
            }
        }
        await using (var sequence = new NpgsqlCommand("SELECT setval('projects_id_seq', (SELECT max(id) FROM projects))", connection))
        {
            await sequence.ExecuteNonQueryAsync();
        }
        using (var read = sqlite.CreateCommand())
        {
            read.CommandText = "SELECT id, project_id, name, redacted, hash, models, created, revoked FROM api_keys";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                await using var insert = new NpgsqlCommand("""
                    INSERT INTO api_keys(id, project_id, name, redacted, hash, models, created, revoked)
                    VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) ON CONFLICT DO NOTHING
                    """, connection);
                PostgresBinding.Add(insert, reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    (byte[])reader.GetValue(4), reader.IsDBNull(5) ? DBNull.Value : reader.GetString(5), reader.GetInt64(6),
                    reader.IsDBNull(7) ? DBNull.Value : reader.GetInt64(7));
                await insert.ExecuteNonQueryAsync();
            }
        }
    }

    /// <summary>A completion as read from SQLite, its metadata already escaped for PostgreSQL text.</summary>
    public sealed record Row(long Seq, string Id, long ProjectId, string Model, long Created, IReadOnlyDictionary<string, string> Metadata, byte[] Body);

    public static List<Row> ReadChunk(SqliteConnection sqlite, long after)
    {
        using var read = sqlite.CreateCommand();
        read.CommandText = "SELECT seq, id, project_id, model, created, metadata, body FROM completions WHERE seq > $after ORDER BY seq LIMIT $limit";
        read.Parameters.AddWithValue("$after", after);
        read.Parameters.AddWithValue("$limit", Chunk);
        var rows = new List<Row>(Chunk);
        using var reader = read.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new Row(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4),
                PostgresText.Encode(MetadataJson.Parse(reader.GetString(5))), (byte[])reader.GetValue(6)));
        }
        return rows;
    }

    /// <summary>
    /// The completions, their metadata pairs and their messages, in one transaction. Their dashboard previews come
    /// after every chunk (<see cref="FillPreviewsAsync"/>).
    /// </summary>
    public static async Task CopyChunkAsync(SqliteConnection sqlite, NpgsqlConnection connection, List<Row> rows)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var completions = await connection.BeginBinaryImportAsync(
            "COPY completions(seq, id, project_id, model, created, metadata, body) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await completions.StartRowAsync();
                await completions.WriteAsync(row.Seq, NpgsqlDbType.Bigint);
                await completions.WriteAsync(PostgresText.Encode(row.Id), NpgsqlDbType.Text);
                await completions.WriteAsync(row.ProjectId, NpgsqlDbType.Bigint);
                await completions.WriteAsync(PostgresText.Encode(row.Model), NpgsqlDbType.Text);
                await completions.WriteAsync(row.Created, NpgsqlDbType.Bigint);
                await completions.WriteAsync(MetadataJson.Write(row.Metadata), NpgsqlDbType.Jsonb);
                await completions.WriteAsync(row.Body, NpgsqlDbType.Bytea);
            }
            await completions.CompleteAsync();
        }
        // The metadata table is the metadata column split into rows; reading the column avoids scanning that table.
        await using (var metadata = await connection.BeginBinaryImportAsync(
            "COPY completion_metadata(project_id, key, value, seq) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                foreach (var (key, value) in row.Metadata)
                {
                    await metadata.WriteRowAsync(CancellationToken.None, row.ProjectId, key, value, row.Seq);
                }
            }
            await metadata.CompleteAsync();
        }
        await using (var messages = await connection.BeginBinaryImportAsync("COPY completion_messages(seq, idx, body) FROM STDIN (FORMAT BINARY)"))
        {
            using var read = sqlite.CreateCommand();
            read.CommandText = "SELECT seq, idx, body FROM completion_messages WHERE seq BETWEEN $first AND $last";
            read.Parameters.AddWithValue("$first", rows[0].Seq);
            read.Parameters.AddWithValue("$last", rows[^1].Seq);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                await messages.StartRowAsync();
                await messages.WriteAsync(reader.GetInt64(0), NpgsqlDbType.Bigint);
                await messages.WriteAsync((int)reader.GetInt64(1), NpgsqlDbType.Integer);
                await messages.WriteAsync((byte[])reader.GetValue(2), NpgsqlDbType.Bytea);
            }
            await messages.CompleteAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>The tombstones of <paramref name="table"/> (<c>deleted_completions</c> or <c>deleted_responses</c>), as they are.</summary>
    public static async Task CopyTombstonesAsync(SqliteConnection sqlite, NpgsqlConnection connection, string table)
    {
        using var read = sqlite.CreateCommand();
        read.CommandText = $"SELECT id, project_id, seq FROM {table}";
        using var reader = read.ExecuteReader();
        var more = true;
        while (more)
        {
            var (ids, projects, seqs) = (new List<string>(), new List<long>(), new List<long>());
            while (ids.Count < Chunk && (more = reader.Read()))
            {
                ids.Add(PostgresText.Encode(reader.GetString(0)));
                projects.Add(reader.GetInt64(1));
                seqs.Add(reader.GetInt64(2));
            }
            await using var insert = new NpgsqlCommand($"""
                INSERT INTO {table}(id, project_id, seq) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
                ON CONFLICT DO NOTHING
                """, connection);
            PostgresBinding.Add(insert, ids.ToArray(), projects.ToArray(), seqs.ToArray());
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Responses and their items after the last one already copied, a chunk per transaction with seqs kept (so a rerun
    /// goes on after the last chunk committed and links resolve as before), then the seq's sequence past every seq the
    /// file ever gave. The number of responses copied.
    /// </summary>
    public static async Task<long> CopyResponsesAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        var after = await ResponsesResumePointAsync(sqlite, connection);
        long copied = 0;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            var last = after;
            await using (var responses = await connection.BeginBinaryImportAsync("""
                COPY responses(seq, id, project_id, model, created_at, previous_response_id, status, input_tokens, output_tokens,
                    request_id, latency_ms, trace_id, metadata, body) FROM STDIN (FORMAT BINARY)
                """))
            {
                using var read = sqlite.CreateCommand();
                read.CommandText = """
                    SELECT seq, id, project_id, model, created_at, previous_response_id, status, input_tokens, output_tokens,
                        request_id, latency_ms, trace_id, metadata, body
                    FROM responses WHERE seq > $after ORDER BY seq LIMIT $limit
                    """;
                read.Parameters.AddWithValue("$after", after);
                read.Parameters.AddWithValue("$limit", Chunk);
                using var reader = read.ExecuteReader();
                while (reader.Read())
                {
                    last = reader.GetInt64(0);
                    await responses.StartRowAsync();
                    await responses.WriteAsync(last, NpgsqlDbType.Bigint);
                    await responses.WriteAsync(PostgresText.Encode(reader.GetString(1)), NpgsqlDbType.Text);
                    await responses.WriteAsync(reader.GetInt64(2), NpgsqlDbType.Bigint);
                    await responses.WriteAsync(PostgresText.Encode(reader.GetString(3)), NpgsqlDbType.Text);
                    await responses.WriteAsync(reader.GetInt64(4), NpgsqlDbType.Bigint);
                    await WriteNullableAsync(responses, reader.IsDBNull(5) ? null : PostgresText.Encode(reader.GetString(5)), NpgsqlDbType.Text);
                    await responses.WriteAsync(reader.GetString(6), NpgsqlDbType.Text);
                    await responses.WriteAsync(reader.GetInt64(7), NpgsqlDbType.Bigint);
                    await responses.WriteAsync(reader.GetInt64(8), NpgsqlDbType.Bigint);
                    await WriteNullableAsync(responses, reader.IsDBNull(9) ? null : reader.GetString(9), NpgsqlDbType.Text);
                    await WriteNullableAsync(responses, reader.IsDBNull(10) ? null : reader.GetInt64(10), NpgsqlDbType.Bigint);
                    await WriteNullableAsync(responses, reader.IsDBNull(11) ? null : reader.GetString(11), NpgsqlDbType.Text);
                    await responses.WriteAsync(MetadataJson.Write(PostgresText.Encode(MetadataJson.Parse(reader.GetString(12)))), NpgsqlDbType.Jsonb);
                    await responses.WriteAsync((byte[])reader.GetValue(13), NpgsqlDbType.Bytea);
                    copied++;
                }
                await responses.CompleteAsync();
            }
            if (last == after)
            {
                break;
            }
            await using (var items = await connection.BeginBinaryImportAsync("COPY response_items(seq, position, kind, id, body) FROM STDIN (FORMAT BINARY)"))
            {
                using var read = sqlite.CreateCommand();
                read.CommandText = "SELECT seq, position, kind, id, body FROM response_items WHERE seq > $after AND seq <= $last";
                read.Parameters.AddWithValue("$after", after);
                read.Parameters.AddWithValue("$last", last);
                using var reader = read.ExecuteReader();
                while (reader.Read())
                {
                    await items.StartRowAsync();
                    await items.WriteAsync(reader.GetInt64(0), NpgsqlDbType.Bigint);
                    await items.WriteAsync((int)reader.GetInt64(1), NpgsqlDbType.Integer);
                    await items.WriteAsync(reader.GetString(2), NpgsqlDbType.Text);
                    await items.WriteAsync(PostgresText.Encode(reader.GetString(3)), NpgsqlDbType.Text);
                    await items.WriteAsync((byte[])reader.GetValue(4), NpgsqlDbType.Bytea);
                }
                await items.CompleteAsync();
            }
            await CopyResponseDashboardRowsAsync(sqlite, connection, after, last);
            await transaction.CommitAsync();
            after = last;
        }
        // SQLite's AUTOINCREMENT remembers seqs of deleted responses too; none is given again.
        var given = Convert.ToInt64(
            Sqlite.SqliteSchema.Scalar(sqlite, "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'responses'"), CultureInfo.InvariantCulture);
        await using var sequence = new NpgsqlCommand("""
            SELECT setval(pg_get_serial_sequence('responses', 'seq'), greatest($1, (SELECT coalesce(max(seq), 1) FROM responses),
                (SELECT last_value FROM responses_seq_seq)))
            """, connection);
        PostgresBinding.Add(sequence, Math.Max(given, 1));
        await sequence.ExecuteNonQueryAsync();
        return copied;
    }

    /// <summary>The last response seq already copied; it must name the same response in both stores, or the target is not ours.</summary>
    private static async Task<long> ResponsesResumePointAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        await using var max = new NpgsqlCommand("SELECT seq, id FROM responses ORDER BY seq DESC LIMIT 1", connection);
        await using var reader = await max.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return 0;
        }
        var (seq, id) = (reader.GetInt64(0), reader.GetString(1));
        using var check = sqlite.CreateCommand();
        check.CommandText = "SELECT id FROM responses WHERE seq = $seq UNION ALL SELECT id FROM deleted_responses WHERE seq = $seq";
        check.Parameters.AddWithValue("$seq", seq);
        return check.ExecuteScalar() is string sqliteId && PostgresText.Encode(sqliteId) == id
            ? seq
            : throw new OptionsException(
                $"--to already holds responses that are not from this file (seq {seq} is {id}); migrate into an empty database.");
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter importer, string? value, NpgsqlDbType type) =>
        value is null ? importer.WriteNullAsync() : importer.WriteAsync(value, type);

    private static Task WriteNullableAsync(NpgsqlBinaryImporter importer, long? value, NpgsqlDbType type) =>
        value is { } number ? importer.WriteAsync(number, type) : importer.WriteNullAsync();
}
