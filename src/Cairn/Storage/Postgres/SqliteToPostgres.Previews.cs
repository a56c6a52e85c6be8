using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>The dashboard's preview rows of the completions <c>cairn migrate</c> copies.</summary>
internal static partial class SqliteToPostgres
{
    /// <summary>
    /// Fills the preview rows of the completions in each seq range <paramref name="ranges"/> gives (a chunk just copied,
    /// or completions an earlier run copied without them), <paramref name="jobs"/> ranges at once, each on its own
    /// connections to both stores and committed alone, until the channel completes. First words, tokens, latency and
    /// trace id are SQLite's preview as it is; the search words are made as a create's are (<see cref="PostgresSearch"/>
    /// of the texts in <see cref="CompletionSummary"/>). Reading and summarizing the bodies is most of this work, hence
    /// the parallel ranges, which run beside the copy. <paramref name="filled"/> hears each range's count.
    /// </summary>
    public static async Task FillPreviewsAsync(
        string sqlitePath, NpgsqlDataSource dataSource, int jobs, ChannelReader<(long First, long Last)> ranges, Action<int> filled)
    {
        var workers = Enumerable.Range(0, jobs).Select(_ => Task.Run(async () =>
        {
            using var sqlite = new SqliteConnection(
                new SqliteConnectionStringBuilder { DataSource = sqlitePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
            sqlite.Open();
            await using var connection = await dataSource.OpenConnectionAsync();
            await foreach (var (first, last) in ranges.ReadAllAsync())
            {
                filled(await FillRangeAsync(sqlite, connection, first, last));
            }
        })).ToList();
        await Task.WhenAll(workers);
    }

    /// <summary>The seq ranges, a chunk each at most, that hold every copied completion without a preview row (none on a fresh copy).</summary>
    public static async Task<List<(long First, long Last)>> UnpreviewedAsync(NpgsqlConnection connection)
    {
        await using var bounds = new NpgsqlCommand("""
            SELECT min(c.seq), max(c.seq) FROM completions c WHERE NOT EXISTS (SELECT 1 FROM completion_previews p WHERE p.seq = c.seq)
            """, connection) { CommandTimeout = 0 };
        await using var reader = await bounds.ExecuteReaderAsync();
        await reader.ReadAsync();
        var ranges = new List<(long, long)>();
        if (!await reader.IsDBNullAsync(0))
        {
            for (long first = reader.GetInt64(0), last = reader.GetInt64(1); first <= last; first += Chunk)
            {
                ranges.Add((first, Math.Min(first + Chunk - 1, last)));
            }
        }
        return ranges;
    }

    /// <summary>The previews of the completions with <c>first &lt;= seq &lt;= last</c>, in one statement; the rows it wrote.</summary>
    private static async Task<int> FillRangeAsync(SqliteConnection sqlite, NpgsqlConnection connection, long first, long last)
    {
        var messages = new Dictionary<long, List<byte[]>>();
        using (var read = sqlite.CreateCommand())
        {
            read.CommandText = "SELECT seq, body FROM completion_messages WHERE seq BETWEEN $first AND $last ORDER BY seq, idx";
            read.Parameters.AddWithValue("$first", first);
            read.Parameters.AddWithValue("$last", last);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var seq = reader.GetInt64(0);
                if (!messages.TryGetValue(seq, out var list))
                {
                    messages[seq] = list = [];
                }
                list.Add((byte[])reader.GetValue(1));
            }
        }
        var (seqs, prompts, answers, promptTokens, completionTokens, latencies, traces, searches) =
            (new List<long>(), new List<string?>(), new List<string?>(), new List<long>(), new List<long>(), new List<long?>(), new List<string?>(),
                new List<string>());
        using (var read = sqlite.CreateCommand())
        {
            read.CommandText = """
                SELECT c.seq, c.body, p.seq IS NOT NULL, p.prompt, p.answer, p.prompt_tokens, p.completion_tokens, p.latency_ms, p.trace_id
                FROM completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE c.seq BETWEEN $first AND $last
                """;
            read.Parameters.AddWithValue("$first", first);
            read.Parameters.AddWithValue("$last", last);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var seq = reader.GetInt64(0);
                var summary = CompletionSummary.Of((byte[])reader.GetValue(1), messages.GetValueOrDefault(seq) ?? []);
                seqs.Add(seq);
                searches.Add(PostgresSearch.Vector(summary.PromptText, summary.AnswerText));
                if (reader.GetBoolean(2))
                {
                    prompts.Add(reader.IsDBNull(3) ? null : Text(reader.GetString(3)));
                    answers.Add(reader.IsDBNull(4) ? null : Text(reader.GetString(4)));
                    promptTokens.Add(reader.GetInt64(5));
                    completionTokens.Add(reader.GetInt64(6));
                    latencies.Add(reader.IsDBNull(7) ? null : reader.GetInt64(7));
                    traces.Add(reader.IsDBNull(8) ? null : reader.GetString(8));
                }
                else
                {
                    prompts.Add(summary.Prompt);
                    answers.Add(summary.Answer);
                    promptTokens.Add(summary.PromptTokens);
                    completionTokens.Add(summary.CompletionTokens);
                    latencies.Add(null);
                    traces.Add(null);
                }
            }
        }
        if (seqs.Count == 0)
        {
            return 0;
        }
        // The search expression is a create's (PostgresCompletionStore.AddAsync). A row copied meanwhile into SQLite
        // (a Cairn still writing the file) has no completion here and gets no preview; the counts at the end say so.
        await using var insert = new NpgsqlCommand("""
            INSERT INTO completion_previews(seq, prompt, answer, prompt_tokens, completion_tokens, latency_ms, trace_id, search)
            SELECT u.seq, u.prompt, u.answer, u.prompt_tokens, u.completion_tokens, u.latency_ms, u.trace_id, u.search::tsvector
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
                AS u(seq, prompt, answer, prompt_tokens, completion_tokens, latency_ms, trace_id, search)
            WHERE EXISTS (SELECT 1 FROM completions c WHERE c.seq = u.seq)
                AND NOT EXISTS (SELECT 1 FROM completion_previews p WHERE p.seq = u.seq)
            """, connection) { CommandTimeout = 0 };
        PostgresBinding.Add(insert, seqs.ToArray(), prompts.ToArray(), answers.ToArray(), promptTokens.ToArray(), completionTokens.ToArray(),
            latencies.ToArray(), traces.ToArray(), searches.ToArray());
        return await insert.ExecuteNonQueryAsync();
    }
}
