using Npgsql;
using static Cairn.Storage.Postgres.PostgresBinding;

namespace Cairn.Storage.Postgres;

/// <summary>
/// The dashboard's side of stored responses on PostgreSQL: its rows beside each response (the preview and the
/// metadata pairs, written and taken in the statement that adds or deletes the response), its reads, and metadata
/// updates. Lists are planned for their own values (the unprepared pool), as the completions' lists are.
/// </summary>
internal sealed partial class PostgresResponseStore : IResponseDashboard
{
    /// <summary>CTEs that delete the previews and metadata pairs of the responses in a CTE <c>gone(seq, id, project_id)</c>.</summary>
    private const string DashboardRowsGone = """
        gone_pairs AS (
            DELETE FROM response_metadata m USING gone g JOIN responses r ON r.seq = g.seq CROSS JOIN LATERAL jsonb_each_text(r.metadata) j
            WHERE m.project_id = r.project_id AND m.key = j.key AND m.value = j.value AND m.seq = r.seq),
        gone_previews AS (DELETE FROM response_previews p USING gone g WHERE p.seq = g.seq)
        """;

    public Task<byte[]?> UpdateMetadataAsync(
        long projectId, string id, IReadOnlyDictionary<string, string> newMetadata, Func<byte[], byte[]> rewrite, CancellationToken cancellationToken) =>
        writer.WriteAsync(async connection =>
        {
            var metadata = PostgresText.Encode(newMetadata);
            long seq;
            byte[] body;
            Dictionary<string, string> old;
            // FOR UPDATE: an update or delete from another instance waits for this one, so each rewrite starts from
            // the body the previous one committed.
            await using (var find = new NpgsqlCommand(
                "SELECT seq, body, metadata::text FROM responses WHERE id = $1 AND project_id = $2 FOR UPDATE", connection))
            {
                Add(find, PostgresText.Encode(id), projectId);
                await using var reader = await find.ExecuteReaderAsync();
                if (!await reader.ReadAsync())
                {
                    return null;
                }
                (seq, body, old) = (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), MetadataJson.Parse(reader.GetString(2)));
            }
            body = rewrite(body);
            // Only the pairs that change are touched, so a pair kept is never deleted and inserted in one statement.
            var gone = old.Where(p => !metadata.TryGetValue(p.Key, out var v) || v != p.Value).ToList();
            var added = metadata.Where(p => !old.TryGetValue(p.Key, out var v) || v != p.Value).ToList();
            await using var update = new NpgsqlCommand("""
                WITH gone AS (
                    DELETE FROM response_metadata
                    WHERE project_id = $1 AND seq = $2 AND (key, value) IN (SELECT * FROM unnest($3::text[], $4::text[]))),
                added AS (
                    INSERT INTO response_metadata(project_id, key, value, seq)
                    SELECT $1, u.k, u.v, $2 FROM unnest($5::text[], $6::text[]) AS u(k, v))
                UPDATE responses SET metadata = $7::jsonb, body = $8 WHERE seq = $2
                """, connection);
            Add(update, projectId, seq, gone.Select(p => p.Key).ToArray(), gone.Select(p => p.Value).ToArray(),
                added.Select(p => p.Key).ToArray(), added.Select(p => p.Value).ToArray(), MetadataJson.Write(metadata), body);
            await update.ExecuteNonQueryAsync();
            return body;
        });

    public async Task<ResponseRows> ListAsync(ResponseFilter filter, PageCursor cursor, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Unprepared.OpenConnectionAsync(cancellationToken);
        await using var command = ListCommand(connection, filter, cursor, limit);
        var rows = new List<ResponseRow>(Paging.OverFetch(limit));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var metadata = MetadataJson.Parse(reader.GetString(6)).ToDictionary(p => PostgresText.Decode(p.Key), p => PostgresText.Decode(p.Value), StringComparer.Ordinal);
                rows.Add(new ResponseRow(reader.GetInt64(0), PostgresText.Decode(reader.GetString(1)), reader.GetInt64(2), PostgresText.Decode(reader.GetString(3)),
                    reader.GetInt64(4), reader.GetString(5), metadata, reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetInt64(9), reader.GetInt64(10)));
            }
        }
        return DashboardPages.Page(rows, cursor, limit);
    }

    /// <summary>
    /// The list query: within a project a metadata pair joins on its index in seq order; across every project (the
    /// admin's view) the pair's rows are found project by project and the planner chooses how to meet storage order.
    /// </summary>
    private static NpgsqlCommand ListCommand(NpgsqlConnection connection, ResponseFilter filter, PageCursor cursor, int limit)
    {
        var sql = new PostgresSql(connection).Append("""
            SELECT r.seq, r.id, r.project_id, r.model, r.created_at, r.status, r.metadata::text, p.input, p.output, r.input_tokens, r.output_tokens
            FROM responses r LEFT JOIN response_previews p ON p.seq = r.seq
            """);
        var project = filter.ProjectId is { } id ? sql.Parameter(id) : null;
        var bound = cursor.Before is { } before ? $"< {sql.Parameter(before)}" : cursor.After is { } after ? $"> {sql.Parameter(after)}" : null;
        if (filter.Pair is { } pair && project is not null)
        {
            sql.Append($" JOIN response_metadata m ON m.project_id = {project} AND m.key = {sql.Parameter(PostgresText.Encode(pair.Key))}")
               .Append($" AND m.value = {sql.Parameter(PostgresText.Encode(pair.Value))} AND m.seq = r.seq");
            if (bound is not null)
            {
                // Repeated on the pair's seq: the planner does not carry a range across seq = seq, and the range is
                // what lets it start mid-index, as PostgresSql.JoinPairs does for the completions.
                sql.Append($" AND m.seq {bound}");
            }
        }
        sql.Append(" WHERE true");
        if (project is not null)
        {
            sql.Append($" AND r.project_id = {project}");
        }
        else if (filter.Pair is { } any)
        {
            sql.Append(" AND r.seq IN (SELECT m.seq FROM projects x JOIN response_metadata m ON m.project_id = x.id")
               .Append($" AND m.key = {sql.Parameter(PostgresText.Encode(any.Key))} AND m.value = {sql.Parameter(PostgresText.Encode(any.Value))})");
        }
        if (filter.Model is { } model)
        {
            sql.Append($" AND r.model = {sql.Parameter(PostgresText.Encode(model))}");
        }
        if (bound is not null)
        {
            sql.Append($" AND r.seq {bound}");
        }
        return sql.OrderBy("r.seq", ascending: cursor.After is not null, limit).Finish();
    }

    public async Task<long?> CursorAsync(long? projectId, string id, CancellationToken cancellationToken)
    {
        await using var find = dataSources.Prepared.CreateCommand(projectId is null
            ? "SELECT seq FROM responses WHERE id = $1 UNION ALL SELECT seq FROM deleted_responses WHERE id = $1 LIMIT 1"
            : "SELECT seq FROM responses WHERE id = $1 AND project_id = $2 UNION ALL SELECT seq FROM deleted_responses WHERE id = $1 AND project_id = $2 LIMIT 1");
        AddIdAndProject(find, id, projectId);
        return await find.ExecuteScalarAsync(cancellationToken) as long?;
    }

    public async Task<ResponseDetail?> GetAsync(long? projectId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        // The response it continued is named while it is stored: a delete or an expiry clears the link.
        await using var find = new NpgsqlCommand($"""
            SELECT r.seq, r.project_id, r.body, r.request_id, r.latency_ms, r.trace_id,
                (SELECT p.id FROM responses p WHERE p.id = r.previous_response_id AND p.project_id = r.project_id AND p.seq < r.seq)
            FROM responses r WHERE r.id = $1{(projectId is null ? "" : " AND r.project_id = $2")}
            """, connection);
        AddIdAndProject(find, id, projectId);
        long seq, owner;
        byte[] body;
        string? request, trace, previous;
        long? latency;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            (seq, owner, body) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2));
            request = reader.IsDBNull(3) ? null : reader.GetString(3);
            latency = reader.IsDBNull(4) ? null : reader.GetInt64(4);
            trace = reader.IsDBNull(5) ? null : reader.GetString(5);
            previous = reader.IsDBNull(6) ? null : PostgresText.Decode(reader.GetString(6));
        }
        // Newest first, so that what does not fit is the oldest; bodies past the budget are never read nor sent.
        await using var chain = new NpgsqlCommand($"""
            WITH RECURSIVE {ResponseChainSql.Chain("seq = $1")}
            SELECT p.rid, p.depth, p.position, p.kind, CASE WHEN row_number() OVER w = 1 OR sum(p.size) OVER w <= $3 THEN p.body END
            FROM (SELECT r.id AS rid, c.depth, i.position, i.kind, i.body, octet_length(i.body) AS size
                  FROM chain c JOIN responses r ON r.seq = c.seq JOIN response_items i ON i.seq = c.seq
                  ORDER BY c.depth, i.position DESC LIMIT $2) p
            WINDOW w AS (ORDER BY p.depth, p.position DESC ROWS UNBOUNDED PRECEDING)
            ORDER BY p.depth, p.position DESC
            """, connection);
        Add(chain, seq, (long)IResponseDashboard.MaxItems + 1, IResponseDashboard.MaxItemBytes);
        var items = new List<ChainItem>();
        var cut = false;
        await using (var reader = await chain.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (items.Count == IResponseDashboard.MaxItems || await reader.IsDBNullAsync(4, cancellationToken))
                {
                    cut = true;
                    break;
                }
                items.Add(new ChainItem(PostgresText.Decode(reader.GetString(0)), reader.GetInt32(1), reader.GetInt32(2),
                    reader.GetString(3) == "output", reader.GetFieldValue<byte[]>(4)));
            }
        }
        items.Reverse();
        return new ResponseDetail(owner, id, body, request, latency, trace, previous, items, cut);
    }

    public async Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken)
    {
        await using var models = dataSources.Prepared.CreateCommand(ResponseDashboardSql.Models(projectId is null ? "true" : "x.id = $1"));
        if (projectId is { } project)
        {
            Add(models, project);
        }
        var names = new List<string>();
        await using var reader = await models.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(PostgresText.Decode(reader.GetString(0)));
        }
        return names;
    }

    private static void AddIdAndProject(NpgsqlCommand command, string id, long? projectId)
    {
        Add(command, PostgresText.Encode(id));
        if (projectId is { } project)
        {
            Add(command, project);
        }
    }
}
