using Npgsql;
using static Cairn.Storage.Postgres.PostgresBinding;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Stored responses in PostgreSQL: reads from the connection pool, writes through the group commit. An add, a delete
/// and a purge batch are each one statement, sent with the others of its group commit in one round trip, and so
/// ordered with every other instance's writes by the commit-order lock: a fold never races an add or another fold.
/// Chains are walked in one query (<see cref="ResponseChainSql"/>).
/// </summary>
internal sealed partial class PostgresResponseStore(PostgresDataSources dataSources, PostgresWriter writer) : IResponseStore, IResponseRetention
{
    public Task AddAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        // Context (positions below 0), input (from 0), then output, numbered in one pass.
        var items = response.Context.Concat(response.Input).Concat(response.Output).ToList();
        var summary = ResponseSummary.Of(response);
        // The dashboard's preview and metadata pairs are written in the same statement (see PostgresSchema). A previous
        // response deleted or expired since the create read its chain (group commits run one at a time, so the check
        // sees every earlier write) leaves the chain as read ($19, $20) as this one's context and no link.
        return writer.ExecuteAsync("""
            WITH parent AS (
                SELECT id FROM responses WHERE id = $5::text AND project_id = $2),
            r AS (
                INSERT INTO responses(id, project_id, model, created_at, previous_response_id, status, input_tokens, output_tokens,
                    request_id, latency_ms, trace_id, metadata, body)
                SELECT $1, $2, $3, $4, (SELECT id FROM parent), $6, $7, $8, $9::text, $10::bigint, $21::text, $11::jsonb, $12 RETURNING seq),
            c AS (
                INSERT INTO response_items(seq, position, kind, id, body)
                SELECT r.seq, u.i - 1 - cardinality($19::text[]), 'input', u.d, u.b
                FROM r, unnest($19::text[], $20::bytea[]) WITH ORDINALITY AS u(d, b, i)
                WHERE $5::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM parent)),
            m AS (
                INSERT INTO response_metadata(project_id, key, value, seq) SELECT $2, j.key, j.value, r.seq FROM r, jsonb_each_text($11::jsonb) j),
            p AS (
                INSERT INTO response_previews(seq, input, output) SELECT r.seq, $17::text, $18::text FROM r)
            INSERT INTO response_items(seq, position, kind, id, body)
            SELECT r.seq, u.i - 1 - $16, CASE WHEN u.i <= $16 + $13 THEN 'input' ELSE 'output' END, u.d, u.b
            FROM r, unnest($14::text[], $15::bytea[]) WITH ORDINALITY AS u(d, b, i)
            """,
            PostgresText.Encode(response.Id), response.ProjectId, PostgresText.Encode(response.Model), response.CreatedAt,
            Text(response.PreviousResponseId is { } previous ? PostgresText.Encode(previous) : null), response.Status,
            (long)response.InputTokens, (long)response.OutputTokens, Text(response.RequestId), Bigint(response.LatencyMs),
            MetadataJson.Write(PostgresText.Encode(response.Metadata)), response.Body, (long)response.Input.Count,
            items.Select(i => PostgresText.Encode(i.Id)).ToArray(), items.Select(i => i.Body).ToArray(), (long)response.Context.Count,
            Text(summary.Input), Text(summary.Output),
            response.ChainRead.Select(i => PostgresText.Encode(i.Id)).ToArray(), response.ChainRead.Select(i => i.Body).ToArray(),
            Text(response.TraceId));
    }

    public async Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken)
    {
        await using var command = dataSources.Prepared.CreateCommand("SELECT body FROM responses WHERE id = $1 AND project_id = $2");
        Add(command, PostgresText.Encode(id), projectId);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<IReadOnlyList<StoredItem>?> GetContextAsync(long projectId, string id, CancellationToken cancellationToken)
    {
        await using var command = dataSources.Prepared.CreateCommand(ResponseChainSql.Context("id = $1 AND project_id = $2"));
        Add(command, PostgresText.Encode(id), projectId);
        var items = new List<StoredItem>();
        var found = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found = true;
            if (!await reader.IsDBNullAsync(0, cancellationToken))
            {
                items.Add(new StoredItem(PostgresText.Decode(reader.GetString(0)), reader.GetFieldValue<byte[]>(1)));
            }
        }
        return found ? items : null;
    }

    public async Task<(StoredPage? Page, ListFailure Failure)> ListInputItemsAsync(
        long projectId, string id, ItemQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        long seq;
        long? after;
        // The cursor is found by its place in the list, ids are not ordered. Were an id there twice, the place
        // furthest along the list is taken, so paging always moves on.
        await using (var find = new NpgsqlCommand(query.After is null
            ? "SELECT seq, NULL::bigint FROM responses WHERE id = $1 AND project_id = $2"
            : ResponseChainSql.InputItems("id = $1 AND project_id = $2")
                + $" SELECT (SELECT seq FROM chain WHERE depth = 0), (SELECT {(query.Ascending ? "max" : "min")}(ord) FROM input WHERE id = $3)",
            connection))
        {
            Add(find, PostgresText.Encode(id), projectId);
            if (query.After is { } afterId)
            {
                Add(find, PostgresText.Encode(afterId));
            }
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken) || await reader.IsDBNullAsync(0, cancellationToken))
            {
                return (null, ListFailure.NotFound);
            }
            seq = reader.GetInt64(0);
            after = await reader.IsDBNullAsync(1, cancellationToken) ? null : reader.GetInt64(1);
        }
        if (query.After is not null && after is null)
        {
            return (null, ListFailure.UnknownCursor);
        }
        var order = query.Ascending ? "ASC" : "DESC";
        var range = after is null ? "" : query.Ascending ? "WHERE k.ord > $5" : "WHERE k.ord < $5";
        await using var command = new NpgsqlCommand(PostgresListQuery.WithinBudget($"""
            {ResponseChainSql.InputItems("seq = $1")}
            SELECT k.id, k.ord AS seq, i.body, octet_length(i.body) AS size
            FROM input k JOIN response_items i ON i.seq = k.seq AND i.position = k.position {range} ORDER BY k.ord {order} LIMIT $2
            """, order, "$3", "$4"), connection);
        Add(command, seq, (long)query.Limit + 1, (long)query.Limit, query.MaxBytes);
        if (after is { } cursor)
        {
            Add(command, cursor);
        }
        return (await PostgresListQuery.ReadPageAsync(command, reader => PostgresText.Decode(reader.GetString(0)), cancellationToken), ListFailure.None);
    }

    public async Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken) =>
        await writer.ExecuteAsync($"""
            WITH RECURSIVE gone AS (SELECT seq, id, project_id FROM responses WHERE id = $1 AND project_id = $2),
            {FoldAndDelete}
            """, PostgresText.Encode(id), projectId) == 1;

    public async Task<bool> PurgeAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        // Storage order walks the primary key from its oldest end, as the completions' purge does. Both statements are
        // queued before either is waited for, so they go in one group commit.
        var purged = writer.ExecuteAsync($"""
            WITH RECURSIVE gone AS (
                SELECT seq, id, project_id FROM (SELECT seq, id, project_id, created_at FROM responses ORDER BY seq LIMIT $1) oldest
                WHERE created_at < $2),
            {FoldAndDelete}
            """, (long)limit, expiredBefore.ToUnixTimeSeconds());
        var dropped = writer.ExecuteAsync("""
            DELETE FROM deleted_responses WHERE id IN (
                SELECT id FROM deleted_responses WHERE id < $1 ORDER BY id LIMIT $2)
            """, Cairn.OpenAI.Ids.ResponseFloor(expiredBefore - RetentionService.TombstoneGrace), (long)limit);
        var removed = await purged;
        writer.Metrics.Removed(StoreMetrics.Responses, removed);
        return removed == limit | await dropped == limit;
    }

    /// <summary>
    /// Given a CTE <c>gone(seq, id, project_id)</c>: folds each one's context into the responses that continued it and
    /// are kept (<see cref="ResponseChainSql.Fold"/>), clears their links, deletes the responses, their items and
    /// their dashboard rows, and leaves each one's tombstone.
    /// Every part reads the state before the statement, so the folds read the items being deleted.
    /// </summary>
    private static readonly string FoldAndDelete = $"""
        {ResponseChainSql.Heirs},
        folded AS ({ResponseChainSql.Fold}),
        {DashboardRowsGone},
        unlinked AS (UPDATE responses r SET previous_response_id = NULL FROM heirs h WHERE r.seq = h.child),
        gone_items AS (DELETE FROM response_items i USING gone g WHERE i.seq = g.seq),
        tombstones AS (INSERT INTO deleted_responses(id, project_id, seq) SELECT id, project_id, seq FROM gone ON CONFLICT DO NOTHING)
        DELETE FROM responses r USING gone g WHERE r.seq = g.seq
        """;
}
