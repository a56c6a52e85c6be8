using Cairn.Http;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// <c>cairn migrate --from FILE --to CONNECTION</c>: copies every stored completion of a SQLite file into PostgreSQL,
/// keeping seqs (so list order and every paging cursor carry over). Each chunk is one transaction, so a rerun goes
/// on after the last chunk committed; at the end the row counts of both stores must agree.
/// </summary>
internal static class MigrateCommand
{
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

        await SqliteToPostgres.CopyProjectsAsync(sqlite, connection);
        var resumeAfter = await ResumePointAsync(sqlite, connection);
        var total = Count(sqlite, "SELECT count(*) FROM completions");
        var progress = new ProgressBar(total, Count(sqlite, $"SELECT count(*) FROM completions WHERE seq <= {resumeAfter}"));
        if (resumeAfter > 0)
        {
            await Console.Error.WriteLineAsync($"cairn migrate: resuming after seq {resumeAfter}");
        }
        for (var last = resumeAfter; ;)
        {
            var rows = SqliteToPostgres.ReadChunk(sqlite, last);
            if (rows.Count == 0)
            {
                break;
            }
            await SqliteToPostgres.CopyChunkAsync(sqlite, connection, rows);
            last = rows[^1].Seq;
            progress.Advance(rows.Count);
        }
        progress.Finish();
        await SqliteToPostgres.CopyTombstonesAsync(sqlite, connection);
        await using (var rollup = new NpgsqlCommand(PostgresSchema.RebuildRollup, connection))
        {
            await rollup.ExecuteNonQueryAsync();
        }
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

    private static async Task<int> VerifyAsync(SqliteConnection sqlite, NpgsqlConnection connection)
    {
        string[] tables = ["completions", "completion_metadata", "completion_messages", "deleted_completions", "completion_previews"];
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
