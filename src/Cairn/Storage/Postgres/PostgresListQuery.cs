using System.Globalization;
using System.Text;
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
        var command = new NpgsqlCommand { Connection = connection };
        string Parameter(object value)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
            return "$" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        var project = Parameter(projectId);
        var cursor = after is { } seq ? Parameter(seq) : null;
        var sql = new StringBuilder("SELECT c.id, c.seq, c.body, octet_length(c.body) AS size FROM completions c");
        for (var i = 0; i < query.Metadata.Count; i++)
        {
            var m = "m" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(CultureInfo.InvariantCulture, $" JOIN completion_metadata {m} ON {m}.project_id = {project}")
               .Append(CultureInfo.InvariantCulture, $" AND {m}.key = {Parameter(PostgresText.Encode(query.Metadata[i].Key))}")
               .Append(CultureInfo.InvariantCulture, $" AND {m}.value = {Parameter(PostgresText.Encode(query.Metadata[i].Value))} AND {m}.seq = c.seq");
            if (cursor is not null)
            {
                // The planner does not carry a range across seq = seq, and the range is what lets it start mid-index.
                sql.Append(CultureInfo.InvariantCulture, $" AND {m}.seq {compare} {cursor}");
            }
        }
        sql.Append(CultureInfo.InvariantCulture, $" WHERE c.project_id = {project}");
        if (query.Model is { } model)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.model = {Parameter(PostgresText.Encode(model))}");
        }
        if (cursor is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.seq {compare} {cursor}");
        }
        sql.Append(CultureInfo.InvariantCulture, $" ORDER BY c.seq {order} LIMIT {Parameter((long)query.Limit + 1)}");
        command.CommandText = WithinBudget(sql.ToString(), order, Parameter((long)query.Limit), Parameter(query.MaxBytes));
        return command;
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
}
