using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// The dashboard's rows, written in the same transaction as the completion they describe: its preview, its search
/// text and its share of the hourly rollup. A delete (or a purge) takes all three back. The search text waits in
/// <c>completion_search_pending</c> until <see cref="FlushSearchAsync"/> moves it into the full-text index in bulk.
/// </summary>
/// <remarks>
/// The pending row holds only the completion's seq (its texts empty): the texts themselves wait in memory
/// (<see cref="searchTexts"/>) for the flush, a fifth of a second later. Writing them into the pending table and
/// deleting them again cost the writer about a third of its page writes per stored completion. After a crash, or
/// for a row whose texts are no longer in memory, the flush reads them from the stored body and messages instead;
/// rows written by an earlier Cairn carry their texts and are moved as they are.
/// </remarks>
internal sealed partial class SqliteCompletionStore
{
    private void InsertSummary(SqliteWriter w, long seq, StoredCompletion completion, CompletionSummary summary)
    {
        var preview = w.Command("""
            INSERT INTO completion_previews(seq, prompt, answer, prompt_tokens, completion_tokens, latency_ms, trace_id)
            VALUES ($seq, $prompt, $answer, $promptTokens, $completionTokens, $latency, $trace)
            """);
        Bind(preview, ("$seq", seq), ("$prompt", (object?)summary.Prompt ?? DBNull.Value), ("$answer", (object?)summary.Answer ?? DBNull.Value),
            ("$promptTokens", summary.PromptTokens), ("$completionTokens", summary.CompletionTokens), ("$latency", (object?)completion.LatencyMs ?? DBNull.Value),
            ("$trace", (object?)completion.TraceId ?? DBNull.Value));
        preview.ExecuteNonQuery();

        var search = w.Command("INSERT INTO completion_search_pending(seq, prompt, answer) VALUES ($seq, '', '')");
        Bind(search, ("$seq", seq));
        search.ExecuteNonQuery();
        KeepSearchText(seq, summary);
        Interlocked.Increment(ref pendingSearch);

        var rollup = w.Command("""
            INSERT INTO completion_rollup(project_id, hour, model, requests, prompt_tokens, completion_tokens, first_seq, last_seq)
            VALUES ($project, $hour, $model, 1, $promptTokens, $completionTokens, $seq, $seq)
            ON CONFLICT(project_id, hour, model) DO UPDATE SET
                requests = requests + 1,
                prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                completion_tokens = completion_tokens + excluded.completion_tokens,
                first_seq = min(first_seq, excluded.first_seq),
                last_seq = max(last_seq, excluded.last_seq)
            """);
        Bind(rollup, ("$project", completion.ProjectId), ("$hour", CompletionSummary.Hour(completion.Created)), ("$model", completion.Model),
            ("$promptTokens", summary.PromptTokens), ("$completionTokens", summary.CompletionTokens), ("$seq", seq));
        rollup.ExecuteNonQuery();
    }

    /// <summary>Runs before the completion's row is deleted: the rollup row is found from it.</summary>
    private static void DeleteSummary(SqliteWriter w, long seq)
    {
        // first_seq and last_seq stay as they are: they remain true bounds.
        var rollup = w.Command("""
            UPDATE completion_rollup SET
                requests = requests - 1,
                prompt_tokens = prompt_tokens - coalesce((SELECT prompt_tokens FROM completion_previews WHERE seq = $seq), 0),
                completion_tokens = completion_tokens - coalesce((SELECT completion_tokens FROM completion_previews WHERE seq = $seq), 0)
            WHERE (project_id, hour, model) = (SELECT project_id, created - (created % 3600), model FROM completions WHERE seq = $seq)
            """);
        Bind(rollup, ("$seq", seq));
        rollup.ExecuteNonQuery();
        var preview = w.Command("DELETE FROM completion_previews WHERE seq = $seq");
        Bind(preview, ("$seq", seq));
        preview.ExecuteNonQuery();
        // Words still waiting never reached the index; only indexed ones are taken out of it.
        var pending = w.Command("DELETE FROM completion_search_pending WHERE seq = $seq");
        Bind(pending, ("$seq", seq));
        if (pending.ExecuteNonQuery() == 0)
        {
            var search = w.Command("DELETE FROM completion_search WHERE rowid = $seq");
            Bind(search, ("$seq", seq));
            search.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// How many rows a flush moves into the full-text index per write. Each write holds the single writer while FTS5
    /// indexes and merges; 500 rows kept a million-row store's stored-create p99 near 80 ms where 5,000 gave 200 ms.
    /// </summary>
    internal const int SearchFlushBatch = 500;

    // Search rows written since the last flush began, as far as this process knows; 1 at start so that rows left
    // by a previous run are moved by the first flush. The pending table is the truth; this only saves empty flushes.
    private long pendingSearch = 1;

    /// <summary>Moves waiting search rows into the full-text index when some may be waiting (the background flush).</summary>
    public Task FlushSearchIfPendingAsync() =>
        Interlocked.Exchange(ref pendingSearch, 0) == 0 ? Task.CompletedTask : FlushSearchAsync();

    /// <summary>
    /// Moves every waiting search row into the full-text index, a batch per write through the group commit. The
    /// writes queue behind every write already queued, so a text search that follows finds all stored before.
    /// </summary>
    public async Task FlushSearchAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        int moved, total = 0;
        do
        {
            moved = await writer.WriteAsync(MoveSearchBatch);
            total += moved;
        }
        while (moved == SearchFlushBatch);
        writer.Metrics.SearchFlushed(total, started);
    }

    /// <summary>The most search texts kept in memory; past it the flush reads the rest from the stored rows.</summary>
    private const int SearchTextsKept = 20_000;

    // Search texts of stored completions not yet in the full-text index, in seq order; only the writer thread touches
    // it. An entry whose seq never committed (its batch ran again with the next seq) is dropped by the next flush.
    private readonly Queue<(long Seq, string Prompt, string Answer)> searchTexts = new();

    private void KeepSearchText(long seq, CompletionSummary summary)
    {
        if (searchTexts.Count < SearchTextsKept)
        {
            searchTexts.Enqueue((seq, summary.PromptText, summary.AnswerText));
        }
    }

    private int MoveSearchBatch(SqliteWriter w)
    {
        var pending = new List<(long Seq, string Prompt, string Answer)>();
        using (var reader = w.Command($"SELECT seq, prompt, answer FROM completion_search_pending ORDER BY seq LIMIT {SearchFlushBatch}").ExecuteReader())
        {
            while (reader.Read())
            {
                pending.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }
        if (pending.Count == 0)
        {
            return 0;
        }
        var index = w.Command("INSERT INTO completion_search(rowid, prompt, answer) VALUES ($seq, $prompt, $answer)");
        foreach (var (seq, prompt, answer) in pending)
        {
            var (promptText, answerText) = prompt.Length + answer.Length > 0 ? (prompt, answer) : SearchText(w, seq);
            Bind(index, ("$seq", seq), ("$prompt", promptText), ("$answer", answerText));
            index.ExecuteNonQuery();
        }
        var drop = w.Command("DELETE FROM completion_search_pending WHERE seq <= $last");
        Bind(drop, ("$last", pending[^1].Seq));
        drop.ExecuteNonQuery();
        return pending.Count;
    }

    /// <summary>
    /// The search texts of the completion <paramref name="seq"/>: kept in memory since it was stored, or read from its
    /// stored body and messages (after a restart, or when more were waiting than memory keeps).
    /// </summary>
    private (string Prompt, string Answer) SearchText(SqliteWriter w, long seq)
    {
        while (searchTexts.TryPeek(out var kept) && kept.Seq <= seq)
        {
            searchTexts.Dequeue();
            if (kept.Seq == seq)
            {
                return (kept.Prompt, kept.Answer);
            }
        }
        var body = w.Command("SELECT body FROM completions WHERE seq = $seq");
        Bind(body, ("$seq", seq));
        var messages = new List<byte[]>();
        var items = w.Command("SELECT body FROM completion_messages WHERE seq = $seq ORDER BY idx");
        Bind(items, ("$seq", seq));
        using (var reader = items.ExecuteReader())
        {
            while (reader.Read())
            {
                messages.Add((byte[])reader.GetValue(0));
            }
        }
        var stored = new StoredCompletion(0, "", "", 0, body.ExecuteScalar() as byte[] ?? "{}"u8.ToArray(), new Dictionary<string, string>(), [.. messages]);
        var summary = CompletionSummary.Of(stored);
        return (summary.PromptText, summary.AnswerText);
    }
}
