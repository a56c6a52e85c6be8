using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// The list query for a shape of filters. Each metadata pair is a join on its own index range, ordered by seq, and
/// the planner picks the pair to drive from: with one pair that walks the pair's range in list order; with several it
/// starts from the pair its statistics say is rarest and probes the others by primary key. The statement is not
/// prepared, so each run is planned for its own values.
/// </summary>
internal static class PostgresListQuery
{
    public static NpgsqlCommand Command(NpgsqlConnection connection, long projectId, CompletionQuery query, long? after)
    {
        var order = query.Ascending ? "ASC" : "DESC";
        var compare = query.Ascending ? ">" : "<";
        var sql = new PostgresSql(connection).Append("SELECT c.id, c.seq, c.body, octet_length(c.body) AS size FROM completions c");
        var project = sql.Parameter(projectId);
        var cursor = after is { } seq ? sql.Parameter(seq) : null;
        sql.JoinPairs(query.Filter(projectId), project, cursor is null ? null : $"{compare} {cursor}")
           .Append(" WHERE true").Where(query.Filter(projectId), project);
        if (cursor is not null)
        {
            sql.Append($" AND c.seq {compare} {cursor}");
        }
        sql.OrderBy("c.seq", query.Ascending, query.Limit);
        var limit = sql.Parameter((long)query.Limit);
        var maxBytes = sql.Parameter(query.MaxBytes);
        return sql.Finish(page => WithinBudget(page, order, limit, maxBytes));
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
