using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Cairn.Configuration;
using Cairn.Http;
using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Commands;

/// <summary>
/// <c>cairn migrate --from FILE --to CONNECTION</c>: copies every stored completion and response of a SQLite file into
/// PostgreSQL, keeping seqs (so list order, every paging cursor and every response chain carry over). Each chunk is one
/// transaction, so a rerun goes on after the last chunk committed; at the end the row counts of both stores must agree.
/// </summary>
internal static class MigrateCommand
{
    private const string Usage = "usage: cairn migrate --from <sqlite file> --to \"<postgres connection string>\"";

    /// <summary>Connections at once for the search words and the index builds, PostgreSQL's costliest parts of a copy.</summary>
    private const int Jobs = 4;

    public static Command Create()
    {
        var from = new Option<string>("--from") { HelpName = "FILE", Description = "The SQLite file to copy (stop the Cairn that writes it first)." };
        var to = new Option<string>("--to") { HelpName = "CONNECTION", Description = "The PostgreSQL connection string of an empty database (or one this file was migrated into)." };
        var migrate = new Command("migrate", "Copy every stored completion and response of a SQLite file into PostgreSQL; run it again to resume.") { from, to };
        migrate.SetAction(async (result, _) =>
        {
            var errors = result.InvocationConfiguration.Error;
            try
            {
                return await CopyAsync(
                    result.GetValue(from) ?? throw new OptionsException(Usage), result.GetValue(to) ?? throw new OptionsException(Usage), errors);
            }
            catch (OptionsException e)
            {
                await errors.WriteLineAsync($"cairn: {e.Message}");
                return 2;
            }
            catch (System.Data.Common.DbException e)
            {
                // Every chunk copied so far is committed; a rerun carries on from there.
                await errors.WriteLineAsync($"{Environment.NewLine}cairn migrate: {e.Message.ReplaceLineEndings(" ")} Run it again to resume.");
                return 1;
            }
        });
        return migrate;
    }

    private static async Task<int> CopyAsync(string from, string to, TextWriter errors)
    {
        if (!File.Exists(from))
        {
            throw new OptionsException($"--from: {from} does not exist.");
        }
        using var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = from, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
        sqlite.Open();
        var version = Convert.ToInt64(SqliteSchema.Scalar(sqlite, "PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version != SqliteSchema.Version)
        {
            throw new OptionsException($"--from: {from} has schema version {version}; this Cairn reads version {SqliteSchema.Version}. Open it once with this Cairn first.");
        }
        await using var postgres = PostgresConnect.Open(to, "--to", forMigrate: true);
        await using var connection = await postgres.Unprepared.OpenConnectionAsync();

        await SqliteToPostgres.CopyProjectsAsync(sqlite, connection);
        var resumeAfter = await ResumePointAsync(sqlite, connection);
        await SqliteToPostgres.DeferIndexesAsync(connection);
        await CopyCompletionsAsync(sqlite, from, postgres, connection, resumeAfter, errors);
        await SqliteToPostgres.CopyTombstonesAsync(sqlite, connection, "deleted_completions");
        await ExecuteAsync(connection, PostgresSchema.RebuildRollup);
        await ExecuteAsync(connection, """
            SELECT setval(pg_get_serial_sequence('completions', 'seq'), greatest(
                (SELECT coalesce(max(seq), 1) FROM completions), (SELECT coalesce(max(seq), 1) FROM deleted_completions),
                (SELECT last_value FROM completions_seq_seq)))
            """);
        var responses = await SqliteToPostgres.CopyResponsesAsync(sqlite, connection);
        await SqliteToPostgres.CopyTombstonesAsync(sqlite, connection, "deleted_responses");
        await errors.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"cairn migrate: {responses:N0} responses copied"));
        await FinishAsync(postgres, connection, errors);
        return await VerifyAsync(sqlite, connection, errors);
    }

    /// <summary>
    /// The completions after <paramref name="resumeAfter"/>, a chunk per transaction, and beside them, a chunk behind,
    /// their dashboard previews and search words (first those of chunks an earlier run copied without them); one
    /// progress line for both.
    /// </summary>
    private static async Task CopyCompletionsAsync(
        SqliteConnection sqlite, string from, PostgresDataSources postgres, NpgsqlConnection connection, long resumeAfter, TextWriter errors)
    {
        var total = Count(sqlite, "SELECT count(*) FROM completions");
        var done = Count(sqlite, $"SELECT count(*) FROM completions WHERE seq <= {resumeAfter}");
        if (resumeAfter > 0)
        {
            await errors.WriteLineAsync($"cairn migrate: resuming after seq {resumeAfter}");
        }
        long previewed;
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM completion_previews", connection) { CommandTimeout = 0 })
        {
            previewed = (long)(await count.ExecuteScalarAsync())!;
        }
        var (copiedAt, previewedAt) = (done, previewed);
        var bar = new ProgressLine("migrate", total, errors);
        var gate = new Lock();
        string Detail() => string.Create(CultureInfo.InvariantCulture,
            $"{done:N0} / {total:N0} completions, {bar.Rate(done - copiedAt)}; {previewed:N0} with search words, {bar.Rate(previewed - previewedAt)}");
        void Progress(Action advance)
        {
            lock (gate)
            {
                advance();
                bar.Show(Math.Min(done, previewed), Detail());
            }
        }

        var ranges = Channel.CreateUnbounded<(long First, long Last)>();
        foreach (var range in await SqliteToPostgres.UnpreviewedAsync(connection))
        {
            ranges.Writer.TryWrite(range);
        }
        var previews = SqliteToPostgres.FillPreviewsAsync(from, postgres.Unprepared, Jobs, ranges.Reader, filled => Progress(() => previewed += filled));
        try
        {
            // A failure making search words stops the copy too: a rerun goes on from what both committed.
            for (var last = resumeAfter; !previews.IsCompleted;)
            {
                var rows = SqliteToPostgres.ReadChunk(sqlite, last);
                if (rows.Count == 0)
                {
                    break;
                }
                await SqliteToPostgres.CopyChunkAsync(sqlite, connection, rows);
                ranges.Writer.TryWrite((rows[0].Seq, rows[^1].Seq));
                last = rows[^1].Seq;
                Progress(() => done += rows.Count);
            }
        }
        finally
        {
            ranges.Writer.TryComplete();
            await previews;
        }
        bar.Finish(Math.Min(done, previewed), Detail());
    }

    /// <summary>
    /// Builds the indexes left for the end, then VACUUM (ANALYZE): planner statistics for the first queries, and the
    /// vacuum that autovacuum would otherwise start on every freshly filled table in the first minutes of service.
    /// </summary>
    private static async Task FinishAsync(PostgresDataSources postgres, NpgsqlConnection connection, TextWriter errors)
    {
        var clock = Stopwatch.StartNew();
        await SqliteToPostgres.BuildIndexesAsync(postgres.Unprepared, Jobs);
        var built = clock.Elapsed;
        await ExecuteAsync(connection, "VACUUM (ANALYZE)");
        await errors.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"cairn migrate: indexes built in {built.TotalSeconds:F1} s, vacuumed and analyzed in {(clock.Elapsed - built).TotalSeconds:F1} s"));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
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

    private static async Task<int> VerifyAsync(SqliteConnection sqlite, NpgsqlConnection connection, TextWriter errors)
    {
        string[] tables = ["completions", "completion_metadata", "completion_messages", "deleted_completions", "completion_previews", "responses", "response_items", "deleted_responses"];
        var mismatches = new List<string>();
        foreach (var table in tables)
        {
            var source = Count(sqlite, $"SELECT count(*) FROM {table}");
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            var target = (long)(await count.ExecuteScalarAsync())!;
            await errors.WriteLineAsync($"cairn migrate: {table}: {source:N0} in SQLite, {target:N0} in PostgreSQL");
            if (source != target)
            {
                mismatches.Add(table);
            }
        }
        if (mismatches.Count > 0)
        {
            await errors.WriteLineAsync(
                $"cairn migrate: counts differ ({string.Join(", ", mismatches)}); was a Cairn still writing to the file? Stop it and run migrate again.");
            return 1;
        }
        await errors.WriteLineAsync("cairn migrate: done; every count matches");
        return 0;
    }

    private static long Count(SqliteConnection sqlite, string sql) =>
        Convert.ToInt64(SqliteSchema.Scalar(sqlite, sql), CultureInfo.InvariantCulture);
}
