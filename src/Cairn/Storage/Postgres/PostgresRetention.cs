using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Purges expired completions from PostgreSQL in small transactions of its own, beside the group commit. Two
/// instances purging at once pick the same oldest rows; the second waits on the first's row locks and then finds
/// them gone, so nothing is deleted twice.
/// </summary>
internal sealed class PostgresRetention(PostgresDataSources dataSources, StoreMetrics metrics) : ICompletionRetention
{
    /// <summary>
    /// CTEs that delete the metadata, messages and dashboard preview of the completions a CTE <c>c</c> deleted (id,
    /// project_id, seq, metadata, model, created), and take them out of the hourly rollup.
    /// </summary>
    public const string DeleteRowsOf = """
        gone_metadata AS (
            DELETE FROM completion_metadata x USING c, jsonb_each_text(c.metadata) e
            WHERE x.project_id = c.project_id AND x.key = e.key AND x.value = e.value AND x.seq = c.seq),
        gone_messages AS (DELETE FROM completion_messages x USING c WHERE x.seq = c.seq),
        gone_previews AS (DELETE FROM completion_previews x USING c WHERE x.seq = c.seq RETURNING x.seq, x.prompt_tokens, x.completion_tokens),
        gone_rollup AS (
            UPDATE completion_rollup r SET requests = r.requests - g.requests,
                prompt_tokens = r.prompt_tokens - g.prompt_tokens, completion_tokens = r.completion_tokens - g.completion_tokens
            FROM (SELECT c.project_id, c.created - (c.created % 3600) AS hour, c.model, count(*) AS requests,
                    coalesce(sum(p.prompt_tokens), 0) AS prompt_tokens, coalesce(sum(p.completion_tokens), 0) AS completion_tokens
                FROM c LEFT JOIN gone_previews p ON p.seq = c.seq GROUP BY 1, 2, 3) g
            WHERE r.project_id = g.project_id AND r.hour = g.hour AND r.model = g.model)
        """;

    public async Task<bool> PurgeAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        // Storage order walks the primary key from its oldest end, so no index on created is needed; a completion
        // whose request outlasted a newer one's waits for the next round.
        await using var completions = new NpgsqlCommand($"""
            WITH c AS (
                DELETE FROM completions WHERE seq IN (
                    SELECT seq FROM (SELECT seq, created FROM completions ORDER BY seq LIMIT $1) oldest WHERE created < $2)
                RETURNING id, project_id, seq, metadata, model, created),
            {DeleteRowsOf},
            tombstones AS (INSERT INTO deleted_completions(id, project_id, seq) SELECT id, project_id, seq FROM c ON CONFLICT DO NOTHING)
            SELECT count(*) FROM c
            """, connection);
        PostgresBinding.Add(completions, (long)limit, expiredBefore.ToUnixTimeSeconds());
        var purged = (long)(await completions.ExecuteScalarAsync(cancellationToken))!;
        metrics.Removed(StoreMetrics.Completions, (int)purged);

        await using var tombstones = new NpgsqlCommand("""
            DELETE FROM deleted_completions WHERE id IN (
                SELECT id FROM deleted_completions WHERE id < $1 ORDER BY id LIMIT $2)
            """, connection);
        PostgresBinding.Add(tombstones, Cairn.OpenAI.Ids.CompletionFloor(expiredBefore - RetentionService.TombstoneGrace), (long)limit);
        var dropped = await tombstones.ExecuteNonQueryAsync(cancellationToken);
        return purged == limit || dropped == limit;
    }
}
