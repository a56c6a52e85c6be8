using Cairn.Http;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Cairn.Storage.Postgres;

/// <summary>
/// <c>cairn migrate --from FILE --to CONNECTION</c>: copies every stored completion of a SQLite file into PostgreSQL,
/// keeping seqs (so list order and every paging cursor carry over). Each chunk is one transaction, so a rerun goes
/// on after the last chunk committed; at the end the row counts of both stores must agree.
/// </summary>
internal static class MigrateCommand
{
    private const int Chunk = 2_000;
    private const string Usage = "usage: cairn migrate --from <sqlite file> --to \"<postgres connection string>\"";

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return await CopyAsync(args);
        }
        catch (System.Data.Common.DbException e)
        {
            // Every chunk copied so far is committed; a rerun carries on from there.
            await Console.Error.WriteLineAsync($"{Environment.NewLine}cairn migrate: {e.Message.ReplaceLineEndings(" ")} Run it again to resume.");
            return 1;
        }
    }

    private static async Task<int> CopyAsync(string[] args)
    {
        var (from, to) = ParseArgs(args);
        if (!File.Exists(from))
        {
            throw new OptionsException($"--from: {from} does not exist.");
        }
        using var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = from, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
        sqlite.Open();
        var version = Convert.ToInt64(SqliteSchema.Scalar(sqlite, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        if (version != SqliteSchema.Version)
        {
            throw new OptionsException($"--from: {from} has schema version {version}; this Cairn reads version {SqliteSchema.Version}. Open it once with this Cairn first.");
        }
        await using var postgres = PostgresConnect.Open(to, "--to");
        await using var connection = await postgres.Unprepared.OpenConnectionAsync();

        await CopyProjectsAsync(sqlite, connection);
        var resumeAfter = await ResumePointAsync(sqlite, connection);
        var total = Count(sqlite, "SELECT count(*) FROM completions");
        var progress = new ProgressBar(total, Count(sqlite, $"SELECT count(*) FROM completions WHERE seq <= {resumeAfter}"));
        if (resumeAfter > 0)
        {
            await Console.Error.WriteLineAsync($"cairn migrate: resuming after seq {resumeAfter}");
        }
        for (var last = resumeAfter; ;)
        {
            var rows = ReadChunk(sqlite, last);
            if (rows.Count == 0)
            {
                break;
            }
            await CopyChunkAsync(sqlite, connection, rows);
            last = rows[^1].Seq;
            progress.Advance(rows.Count);
        }
        progress.Finish();
        await CopyTombstonesAsync(sqlite, connection);
        await using (var sequence = new NpgsqlCommand("""
            SELECT setval(pg_get_serial_sequence('completions', 'seq'), greatest(
                (SELECT coalesce(max(seq), 1) FROM completions), (SELECT coalesce(max(seq), 1) FROM deleted_completions),
                (SELECT last_value FROM completions_seq_seq)))
            """, connection))
        {
            await sequence.ExecuteNonQueryAsync();
        }
        return await VerifyAsync(sqlite, connection);
    }

    private static (string From, string To) ParseArgs(string[] args)
    {
        string? from = null, to = null;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new OptionsException($"{args[i]} needs a value. {Usage}");
            switch (args[i])
            {
                case "--from": from = value; break;
                case "--to": to = value; break;
                default: throw new OptionsException($"unknown argument {args[i]}. {Usage}");
            }
        }
        return from is null || to is null ? throw new OptionsException(Usage) : (from, to);
    }

    private static async Task CopyProjectsAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        using var read = sqlite.CreateCommand();
        read.CommandText = "SELECT id, public_id, name, created FROM projects";
        using var reader = read.ExecuteReader();
        while (reader.Read())
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO projects(id, public_id, name, created) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", connection);
            PostgresCompletionStore.Add(insert, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The last seq already copied; it must name the same completion in both stores, or the target is not ours.</summary>
    private static async Task<long> ResumePointAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        await using var max = new NpgsqlCommand("SELECT seq, id FROM completions ORDER BY seq DESC LIMIT 1", connection);
        await using var reader = await max.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return 0;
        }
        var (seq, id) = (reader.GetInt64(0), reader.GetString(1));
        using var check = sqlite.CreateCommand();
        check.CommandText = "SELECT id FROM completions WHERE seq = $seq UNION ALL SELECT id FROM deleted_completions WHERE seq = $seq";
        check.Parameters.AddWithValue("$seq", seq);
        return check.ExecuteScalar() is string sqliteId && PostgresText.Encode(sqliteId) == id
            ? seq
            : throw new OptionsException($"--to already holds completions that are not from this file (seq {seq} is {id}); migrate into an empty database.");
    }

    /// <summary>A completion as read from SQLite, its metadata already escaped for PostgreSQL text.</summary>
    private sealed record Row(long Seq, string Id, long ProjectId, string Model, long Created, IReadOnlyDictionary<string, string> Metadata, byte[] Body);

    private static List<Row> ReadChunk(SqliteConnection sqlite, long after)
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
                PostgresText.Encode(PostgresJson.ParseMetadata(reader.GetString(5))), (byte[])reader.GetValue(6)));
        }
        return rows;
    }

    private static async Task CopyChunkAsync(SqliteConnection sqlite, NpgsqlConnection connection, List<Row> rows)
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
                await completions.WriteAsync(PostgresJson.Metadata(row.Metadata), NpgsqlDbType.Jsonb);
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

    private static async Task CopyTombstonesAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        using var read = sqlite.CreateCommand();
        read.CommandText = "SELECT id, project_id, seq FROM deleted_completions";
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
            await using var insert = new NpgsqlCommand("""
                INSERT INTO deleted_completions(id, project_id, seq) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
                ON CONFLICT DO NOTHING
                """, connection);
            PostgresCompletionStore.Add(insert, ids.ToArray(), projects.ToArray(), seqs.ToArray());
            await insert.ExecuteNonQueryAsync();
        }
    }

    private static async Task<int> VerifyAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        string[] tables = ["completions", "completion_metadata", "completion_messages", "deleted_completions"];
        var mismatches = new List<string>();
        foreach (var table in tables)
        {
            var source = Count(sqlite, $"SELECT count(*) FROM {table}");
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            var target = (long)(await count.ExecuteScalarAsync())!;
            await Console.Error.WriteLineAsync($"cairn migrate: {table}: {source:N0} in SQLite, {target:N0} in PostgreSQL");
            if (source != target)
            {
                mismatches.Add(table);
            }
        }
        if (mismatches.Count > 0)
        {
            await Console.Error.WriteLineAsync(
                $"cairn migrate: counts differ ({string.Join(", ", mismatches)}); was a Cairn still writing to the file? Stop it and run migrate again.");
            return 1;
        }
        await Console.Error.WriteLineAsync("cairn migrate: done; every count matches");
        return 0;
    }

    private static long Count(SqliteConnection sqlite, string sql) =>
        Convert.ToInt64(SqliteSchema.Scalar(sqlite, sql), System.Globalization.CultureInfo.InvariantCulture);
}
