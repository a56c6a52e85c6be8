using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// The API's list of stored completions. A list walks one index in list order, checks every other filter on each row
/// it meets and stops when the page is full, so a page costs the rows its walk visits. Without a model filter that walk
/// is fixed by the statement itself: the first metadata pair's range of <c>completion_metadata</c> (the caller puts
/// the rarest pair first, see <see cref="RarestFirstAsync"/>), each other pair a step on the walk's seq, then the
/// completion; or, with no pair, the project's completions. Such a statement is prepared, and whichever plan
/// PostgreSQL keeps for it (after five executions it may switch to a generic plan that cannot see the values) walks
/// the same index. A model filter's best walk depends on the model (one model may be nearly every row or none), so
/// those lists are joins planned for their values on each execution.
/// </summary>
internal static class PostgresListQuery
{
    /// <summary>How many rows a probe counts before it stops: enough to tell a selective pair from a broad one.</summary>
    private const int ProbeLimit = 512;

    public static NpgsqlCommand Command(NpgsqlConnection connection, long projectId, CompletionQuery query)
    {
        var order = query.Ascending ? "ASC" : "DESC";
        var filter = query.Filter(projectId);
        var sql = new PostgresSql(connection);
        var project = sql.Parameter(projectId);
        var bound = query.After is { } after ? $"{(query.Ascending ? ">" : "<")} {sql.Cursor(after, project)}" : null;
        string seq;
        if (query.Model is not null)
        {
            seq = "c.seq";
            sql.Append("SELECT c.id, c.seq, c.body, octet_length(c.body) AS size FROM completions c")
               .JoinPairs(filter, project, bound).Append(" WHERE true").Where(filter, project);
        }
        else if (query.Metadata.Count > 0)
        {
            seq = "m0.seq";
            sql.Append("SELECT c.id, m0.seq, c.body, octet_length(c.body) AS size FROM completion_metadata m0");
            var last = sql.CheckPairs(filter, project, "m0.seq", firstPair: 1);
            sql.Append($" CROSS JOIN LATERAL (SELECT c.id, c.body FROM completions c WHERE c.seq = {last} AND c.project_id = {project} LIMIT 1) c")
               .Append(" WHERE ").Pair(filter, 0, "m0", project);
        }
        else
        {
            seq = "c.seq";
            sql.Append("SELECT c.id, c.seq, c.body, octet_length(c.body) AS size FROM completions c WHERE true").Where(filter, project);
        }
        if (bound is not null)
        {
            sql.Append($" AND {seq} {bound}");
        }
        sql.OrderBy(seq, query.Ascending, query.Limit);
        var limit = sql.Parameter((long)query.Limit);
        var maxBytes = sql.Parameter(query.MaxBytes);
        return sql.Finish(page => WithinBudget(page, order, limit, maxBytes));
    }

    /// <summary>
    /// The list with its rarest metadata pair first, or null when a pair has no row past the cursor (the page is
    /// empty). Driving the walk from a broad pair (a tenth of a million rows) while a narrow one (a hundred) rejects
    /// nearly every row would visit the broad pair's rows until the page is full, or all of them; so each pair's rows
    /// past the cursor are counted on its own index, up to <see cref="ProbeLimit"/>, all pairs in one statement, and
    /// the fewest drives. (The planner's own estimate would come from statistics, and from none at all in a generic plan.)
    /// </summary>
    public static async Task<CompletionQuery?> RarestFirstAsync(NpgsqlConnection connection, long projectId, CompletionQuery query, CancellationToken cancellationToken)
    {
        var filter = query.Filter(projectId);
        var sql = new PostgresSql(connection);
        var project = sql.Parameter(projectId);
        var bound = query.After is { } after ? $"{(query.Ascending ? ">" : "<")} {sql.Cursor(after, project)}" : null;
        sql.Append("SELECT ");
        for (var i = 0; i < query.Metadata.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append("(SELECT count(*) FROM (SELECT FROM completion_metadata m WHERE ").Pair(filter, i, "m", project);
            if (bound is not null)
            {
                sql.Append($" AND m.seq {bound}");
            }
            sql.Append($" ORDER BY m.seq {(query.Ascending ? "ASC" : "DESC")} LIMIT {ProbeLimit}) x)");
        }
        await using var command = sql.Finish();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var rarest = 0;
        for (var i = 0; i < query.Metadata.Count; i++)
        {
            var count = reader.GetInt64(i);
            if (count == 0)
            {
                return null;
            }
            if (count < reader.GetInt64(rarest))
            {
                rarest = i;
            }
        }
        if (rarest == 0)
        {
            return query;
        }
        var pairs = new List<KeyValuePair<string, string>>(query.Metadata);
        (pairs[0], pairs[rarest]) = (pairs[rarest], pairs[0]);
        return query with { Metadata = pairs };
    }

    /// <summary>Whether <paramref name="id"/> is a completion or a tombstone in the project: what an empty page from a cursor asks.</summary>
    public static async Task<bool> CursorExistsAsync(NpgsqlConnection connection, long projectId, string id, CancellationToken cancellationToken)
    {
        var sql = new PostgresSql(connection);
        var project = sql.Parameter(projectId);
        sql.Append($"SELECT {sql.Cursor(id, project)}");
        await using var command = sql.Finish();
        return await command.ExecuteScalarAsync(cancellationToken) is long;
    }

    /// <summary>
    /// Wraps a page query (id, seq, body, size) so that it answers (id, body) with the body null from the first
    /// row that passes the page's byte budget (the first row always fits) or the limit: the reader stops there, with
    /// more to follow, and bodies left out are never read from their TOAST tables or sent.
    /// </summary>
    public static string WithinBudget(string page, string order, string limit, string maxBytes) =>
        $"""
        SELECT p.id, CASE WHEN row_number() OVER w <= {limit} AND (row_number() OVER w = 1 OR sum(p.size) OVER w <= {maxBytes}) THEN p.body END
        FROM ({page}) p WINDOW w AS (ORDER BY p.seq {order} ROWS UNBOUNDED PRECEDING) ORDER BY p.seq {order}
        """;

    /// <summary>Reads a page made by <see cref="WithinBudget"/>: a null body ends it, with more to follow.</summary>
    public static async Task<StoredPage> ReadPageAsync(NpgsqlCommand command, Func<NpgsqlDataReader, string> id, CancellationToken cancellationToken)
    {
        var items = new List<StoredItem>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (await reader.IsDBNullAsync(1, cancellationToken))
            {
                return new StoredPage(items, HasMore: true);
            }
            items.Add(new StoredItem(id(reader), reader.GetFieldValue<byte[]>(1)));
        }
        return new StoredPage(items, HasMore: false);
    }
}
