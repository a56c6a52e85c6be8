using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// The dashboard's rows, written in the same transaction as the completion they describe: its preview and its share
/// of the hourly rollup, which a delete (or a purge) takes back. Its search words go to the search index
/// (<see cref="SqliteSearchIndex"/>, a file of its own) after the commit: the writer only hands their texts over.
/// </summary>
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

        search.Keep(seq, summary);

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
    }
}
