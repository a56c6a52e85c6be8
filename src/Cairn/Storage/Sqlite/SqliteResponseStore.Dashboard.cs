using System.Runtime.InteropServices;
using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// The dashboard's side of stored responses on SQLite: its rows beside each response (the preview and the metadata
/// pairs, written and taken in the transaction of the response), its reads, and metadata updates.
/// </summary>
internal sealed partial class SqliteResponseStore : IResponseDashboard
{
    /// <summary>Writes the preview and the metadata pairs of the response just inserted at <paramref name="seq"/>.</summary>
    private static void AddDashboardRows(SqliteWriter w, long seq, StoredResponse response, ResponseSummary summary)
    {
        var preview = w.Command("INSERT INTO response_previews(seq, input, output) VALUES ($seq, $input, $output)");
        Bind(preview, ("$seq", seq), ("$input", (object?)summary.Input ?? DBNull.Value), ("$output", (object?)summary.Output ?? DBNull.Value));
        preview.ExecuteNonQuery();
        if (response.Metadata.Count > 0)
        {
            InsertPairs(w, seq);
        }
    }

    /// <summary>The metadata column of the response at <paramref name="seq"/>, split into rows.</summary>
    private static void InsertPairs(SqliteWriter w, long seq)
    {
        var pairs = w.Command("""
            INSERT INTO response_metadata(project_id, key, value, seq)
            SELECT r.project_id, j.key, j.value, r.seq FROM responses r, json_each(r.metadata) j WHERE r.seq = $seq
            """);
        Bind(pairs, ("$seq", seq));
        pairs.ExecuteNonQuery();
    }

    /// <summary>
    /// Deletes the previews and metadata pairs of the responses in <paramref name="seqs"/> (a JSON array), before the
    /// responses go. Each pair is deleted by its whole key: SQLite's planner seeks a set of row values by the first
    /// column only.
    /// </summary>
    private static void RemoveDashboardRows(SqliteWriter w, string seqs)
    {
        var find = w.Command("""
            SELECT r.project_id, j.key, j.value, r.seq FROM responses r, json_each(r.metadata) j
            WHERE r.seq IN (SELECT value FROM json_each($seqs))
            """);
        Bind(find, ("$seqs", seqs));
        var pairs = new List<(long Project, string Key, string Value, long Seq)>();
        using (var reader = find.ExecuteReader())
        {
            while (reader.Read())
            {
                pairs.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
            }
        }
        DeletePairs(w, pairs);
        var previews = w.Command("DELETE FROM response_previews WHERE seq IN (SELECT value FROM json_each($seqs))");
        Bind(previews, ("$seqs", seqs));
        previews.ExecuteNonQuery();
    }

    private static void DeletePairs(SqliteWriter w, IEnumerable<(long Project, string Key, string Value, long Seq)> pairs)
    {
        foreach (var (project, key, value, seq) in pairs)
        {
            var delete = w.Command("DELETE FROM response_metadata WHERE project_id = $project AND key = $key AND value = $value AND seq = $seq");
            Bind(delete, ("$project", project), ("$key", key), ("$value", value), ("$seq", seq));
            delete.ExecuteNonQuery();
        }
    }

    public Task<byte[]?> UpdateMetadataAsync(
        long projectId, string id, IReadOnlyDictionary<string, string> metadata, Func<byte[], byte[]> rewrite, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            var find = w.Command("SELECT seq, metadata, body FROM responses WHERE id = $id AND project_id = $project");
            Bind(find, ("$id", id), ("$project", projectId));
            long seq;
            Dictionary<string, string> old;
            byte[] body;
            using (var reader = find.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return null;
                }
                (seq, old, body) = (reader.GetInt64(0), MetadataJson.Parse(reader.GetString(1)), (byte[])reader.GetValue(2));
            }
            DeletePairs(w, old.Select(p => (projectId, p.Key, p.Value, seq)));
            body = rewrite(body);
            var update = w.Command("UPDATE responses SET metadata = $metadata, body = $body WHERE seq = $seq");
            Bind(update, ("$metadata", MetadataJson.Write(metadata)), ("$body", body), ("$seq", seq));
            update.ExecuteNonQuery();
            InsertPairs(w, seq);
            return body;
        });

    public Task<ResponseRows> ListAsync(ResponseFilter filter, PageCursor cursor, int limit, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var rareEverywhere = filter.ProjectId is null && filter.Pair is { } pair && IsRareEverywhere(session, pair);
            var command = ListSql(filter, cursor, limit, rareEverywhere).Command(session);
            var rows = new List<ResponseRow>(Paging.OverFetch(limit));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add(new ResponseRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4),
                        reader.GetString(5), MetadataJson.Parse(reader.GetString(6)), reader.IsDBNull(7) ? null : reader.GetString(7),
                        reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetInt64(9), reader.GetInt64(10)));
                }
            }
            return DashboardPages.Page(rows, cursor, limit);
        }, cancellationToken);

    private const int ProbeLimit = 50_000;

    /// <summary>
    /// Whether a metadata pair matches fewer than <see cref="ProbeLimit"/> responses over every project (counted in
    /// the index). The index starts with the project, so the admin's view cannot walk it in storage order: a rare
    /// pair's rows are looked up project by project and sorted, a common one is met soon enough walking storage order.
    /// </summary>
    private static bool IsRareEverywhere(PreparedConnection session, KeyValuePair<string, string> pair)
    {
        var probe = session.Command($"""
            SELECT count(*) FROM (SELECT 1 FROM projects x CROSS JOIN response_metadata m
                WHERE m.project_id = x.id AND m.key = $key AND m.value = $value LIMIT {ProbeLimit})
            """);
        Bind(probe, ("$key", pair.Key), ("$value", pair.Value));
        return (long)probe.ExecuteScalar()! < ProbeLimit;
    }

    /// <summary>
    /// The list query. One index drives the walk in storage order, the other filters are checked per row: within a
    /// project the metadata pair's rows, else the responses' own index (by project and model, or by seq for every
    /// project); for every project a rare pair's rows, found project by project.
    /// </summary>
    private static SqliteSql ListSql(ResponseFilter filter, PageCursor cursor, int limit, bool rareEverywhere)
    {
        var sql = new SqliteSql().Append("""
            SELECT r.seq, r.id, r.project_id, r.model, r.created_at, r.status, r.metadata, p.input, p.output, r.input_tokens, r.output_tokens FROM
            """);
        const string Previews = " LEFT JOIN response_previews p ON p.seq = r.seq";
        string seq;
        if (filter.Pair is { } pair && filter.ProjectId is { } project)
        {
            sql.Append(" response_metadata m CROSS JOIN responses r").Append(Previews)
               .Append(" WHERE m.project_id = ").Append(sql.Parameter("$project", project))
               .Append(" AND m.key = ").Append(sql.Parameter("$key", pair.Key)).Append(" AND m.value = ").Append(sql.Parameter("$value", pair.Value))
               .Append(" AND r.seq = m.seq");
            seq = "m.seq";
        }
        else
        {
            sql.Append(" responses r").Append(Previews).Append(" WHERE 1");
            if (filter.ProjectId is { } own)
            {
                sql.Append(" AND r.project_id = ").Append(sql.Parameter("$project", own));
            }
            if (filter.Pair is { } any)
            {
                sql.Append(rareEverywhere
                        ? " AND r.seq IN (SELECT m.seq FROM projects x CROSS JOIN response_metadata m WHERE m.project_id = x.id AND m.key = "
                        : " AND EXISTS (SELECT 1 FROM response_metadata m WHERE m.project_id = r.project_id AND m.seq = r.seq AND m.key = ")
                   .Append(sql.Parameter("$key", any.Key)).Append(" AND m.value = ").Append(sql.Parameter("$value", any.Value)).Append(")");
            }
            seq = "r.seq";
        }
        if (filter.Model is { } model)
        {
            sql.Append(" AND r.model = ").Append(sql.Parameter("$model", model));
        }
        return sql.Page(seq, cursor, limit);
    }

    public Task<long?> CursorAsync(long? projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var find = session.Command(projectId is null
                ? "SELECT seq FROM responses WHERE id = $id UNION ALL SELECT seq FROM deleted_responses WHERE id = $id LIMIT 1"
                : """
                  SELECT seq FROM responses WHERE id = $id AND project_id = $project
                  UNION ALL SELECT seq FROM deleted_responses WHERE id = $id AND project_id = $project LIMIT 1
                  """);
            Bind(find, Values(id, projectId));
            return find.ExecuteScalar() as long?;
        }, cancellationToken);

    public Task<ResponseDetail?> GetAsync(long? projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            // The response it continued is named while it is stored: a delete or an expiry clears the link.
            var find = session.Command($"""
                SELECT r.seq, r.project_id, r.body, r.request_id, r.latency_ms, r.trace_id,
                    (SELECT p.id FROM responses p WHERE p.id = r.previous_response_id AND p.project_id = r.project_id AND p.seq < r.seq)
                FROM responses r WHERE r.id = $id{(projectId is null ? "" : " AND r.project_id = $project")}
                """);
            Bind(find, Values(id, projectId));
            long seq, owner;
            byte[] body;
            string? request, trace, previous;
            long? latency;
            using (var reader = find.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return null;
                }
                (seq, owner, body) = (reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2));
                request = reader.IsDBNull(3) ? null : reader.GetString(3);
                latency = reader.IsDBNull(4) ? null : reader.GetInt64(4);
                trace = reader.IsDBNull(5) ? null : reader.GetString(5);
                previous = reader.IsDBNull(6) ? null : reader.GetString(6);
            }
            // Newest first, so that what does not fit is the oldest; a body is read only when it fits.
            var chain = session.Command($"""
                WITH RECURSIVE {ResponseChainSql.Chain("seq = $seq")}
                SELECT r.id, c.depth, i.position, i.kind, length(i.body), i.body
                FROM chain c JOIN responses r ON r.seq = c.seq JOIN response_items i ON i.seq = c.seq
                ORDER BY c.depth, i.position DESC LIMIT $limit
                """);
            Bind(chain, ("$seq", seq), ("$limit", IResponseDashboard.MaxItems + 1));
            var items = new List<ChainItem>();
            var cut = false;
            long bytes = 0;
            using (var reader = chain.ExecuteReader())
            {
                while (reader.Read())
                {
                    var size = reader.GetInt64(4);
                    if (items.Count == IResponseDashboard.MaxItems || !StoredPage.Fits(items.Count, bytes, size, IResponseDashboard.MaxItemBytes))
                    {
                        cut = true;
                        break;
                    }
                    bytes += size;
                    items.Add(new ChainItem(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3) == "output", (byte[])reader.GetValue(5)));
                }
            }
            items.Reverse();
            return new ResponseDetail(owner, id, body, request, latency, trace, previous, items, cut);
        }, cancellationToken);

    public Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var models = session.Command(ResponseDashboardSql.Models(projectId is null ? "1" : "x.id = $project"));
            if (projectId is { } project)
            {
                Bind(models, ("$project", project));
            }
            else
            {
                Trim(models, 0);
            }
            var names = new List<string>();
            using var reader = models.ExecuteReader();
            while (reader.Read())
            {
                names.Add(reader.GetString(0));
            }
            return (IReadOnlyList<string>)names;
        }, cancellationToken);

    private static ReadOnlySpan<(string Name, object Value)> Values(string id, long? projectId) =>
        projectId is { } project ? new[] { ("$id", (object)id), ("$project", project) } : new[] { ("$id", (object)id) };
}
