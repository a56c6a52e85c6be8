using System.Globalization;
using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Stored responses in the SQLite file: reads from pooled connections, writes (adds, deletes, expiries) through the
/// group commit, each one transaction with the writes beside it. Chains are walked in one query (<see cref="ResponseChainSql"/>).
/// </summary>
internal sealed partial class SqliteResponseStore(SqliteWriter writer, SqliteReaders readers) : IResponseStore, IResponseRetention
{
    private const int ItemsPerInsert = 64;

    public Task AddAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        var summary = ResponseSummary.Of(response);
        return writer.WriteAsync(w =>
        {
            var (previous, context) = (response.PreviousResponseId, response.Context);
            if (previous is not null && !Exists(w, response.ProjectId, previous))
            {
                // Deleted or expired since the create read its chain: the turn keeps what it was answered with.
                (previous, context) = (null, response.ChainRead);
            }
            var insert = w.Command("""
                INSERT INTO responses(id, project_id, model, created_at, previous_response_id, status, input_tokens, output_tokens,
                    request_id, latency_ms, trace_id, metadata, body)
                VALUES ($id, $project, $model, $created, $previous, $status, $inputTokens, $outputTokens, $request, $latency, $trace, $metadata, $body)
                RETURNING seq
                """);
            Bind(insert, ("$id", response.Id), ("$project", response.ProjectId), ("$model", response.Model), ("$created", response.CreatedAt),
                ("$previous", (object?)previous ?? DBNull.Value), ("$status", response.Status),
                ("$inputTokens", response.InputTokens), ("$outputTokens", response.OutputTokens),
                ("$request", (object?)response.RequestId ?? DBNull.Value), ("$latency", (object?)response.LatencyMs ?? DBNull.Value),
                ("$trace", (object?)response.TraceId ?? DBNull.Value), ("$metadata", MetadataJson.Write(response.Metadata)), ("$body", response.Body));
            var seq = (long)insert.ExecuteScalar()!;
            InsertItems(w, seq, "input", -context.Count, context);
            InsertItems(w, seq, "input", 0, response.Input);
            InsertItems(w, seq, "output", response.Input.Count, response.Output);
            AddDashboardRows(w, seq, response, summary);
            return true;
        });
    }

    private static bool Exists(SqliteWriter w, long projectId, string id)
    {
        var find = w.Command("SELECT 1 FROM responses WHERE id = $id AND project_id = $project");
        Bind(find, ("$id", id), ("$project", projectId));
        return find.ExecuteScalar() is not null;
    }

    /// <summary>Many rows per statement: each statement costs more than the rows it adds.</summary>
    private static void InsertItems(SqliteWriter w, long seq, string kind, int firstPosition, IReadOnlyList<StoredItem> items)
    {
        for (var start = 0; start < items.Count; start += ItemsPerInsert)
        {
            var count = Math.Min(ItemsPerInsert, items.Count - start);
            var insert = w.Command(RowsSql(
                "INSERT INTO response_items(seq, position, kind, id, body) VALUES ", "($seq, $i{0}, '" + kind + "', $d{0}, $b{0})", count));
            Set(insert, 0, "$seq", seq);
            for (var i = 0; i < count; i++)
            {
                Set(insert, 1 + (3 * i), SqliteBinding.Index(i), firstPosition + start + i);
                Set(insert, 2 + (3 * i), ItemId(i), items[start + i].Id);
                Set(insert, 3 + (3 * i), SqliteBinding.Body(i), items[start + i].Body);
            }
            insert.ExecuteNonQuery();
        }
    }

    public Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command("SELECT body FROM responses WHERE id = $id AND project_id = $project");
            Bind(command, ("$id", id), ("$project", projectId));
            return command.ExecuteScalar() as byte[];
        }, cancellationToken);

    public Task<IReadOnlyList<StoredItem>?> GetContextAsync(long projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command(ResponseChainSql.Context("id = $id AND project_id = $project"));
            Bind(command, ("$id", id), ("$project", projectId));
            var items = new List<StoredItem>();
            var found = false;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    found = true;
                    if (!reader.IsDBNull(0))
                    {
                        items.Add(new StoredItem(reader.GetString(0), (byte[])reader.GetValue(1)));
                    }
                }
            }
            return found ? items : (IReadOnlyList<StoredItem>?)null;
        }, cancellationToken);

    public Task<(StoredPage? Page, ListFailure Failure)> ListInputItemsAsync(long projectId, string id, ItemQuery query, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            // The cursor is found by its place in the list, ids are not ordered. Were an id there twice, the place
            // furthest along the list is taken, so paging always moves on.
            var find = session.Command(query.After is null
                ? "SELECT seq, NULL FROM responses WHERE id = $id AND project_id = $project"
                : ResponseChainSql.InputItems("id = $id AND project_id = $project")
                    + $" SELECT (SELECT seq FROM chain WHERE depth = 0), (SELECT {(query.Ascending ? "max" : "min")}(ord) FROM input WHERE id = $after)");
            if (query.After is { } afterId)
            {
                Bind(find, ("$id", id), ("$project", projectId), ("$after", afterId));
            }
            else
            {
                Bind(find, ("$id", id), ("$project", projectId));
            }
            long seq;
            long? after;
            using (var reader = find.ExecuteReader())
            {
                if (!reader.Read() || reader.IsDBNull(0))
                {
                    return ((StoredPage?)null, ListFailure.NotFound);
                }
                seq = reader.GetInt64(0);
                after = reader.IsDBNull(1) ? null : reader.GetInt64(1);
            }
            if (query.After is not null && after is null)
            {
                return (null, ListFailure.UnknownCursor);
            }
            // CROSS JOIN keeps the page's items as the outer loop: with a plain JOIN, SQLite 3.53 scanned every item of
            // the store against an automatic index on them (3-4 s a page at 2,000,000 items, bench/responses; 1 ms now).
            var sql = new SqliteSql();
            sql.Append(ResponseChainSql.InputItems("seq = " + sql.Parameter("$seq", seq)))
               .Append(" SELECT k.id, i.body, length(i.body) FROM input k CROSS JOIN response_items i ON i.seq = k.seq AND i.position = k.position");
            if (after is { } cursor)
            {
                sql.Append(query.Ascending ? " WHERE k.ord > " : " WHERE k.ord < ").Append(sql.Parameter("$after", cursor));
            }
            var command = sql.OrderBy("k.ord", query.Ascending, Paging.OverFetch(query.Limit)).Command(session);
            return (SqlitePage.Read(command, query.Limit, query.MaxBytes, reader => reader.GetString(0)), ListFailure.None);
        }, cancellationToken);

    public Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            var find = w.Command("SELECT seq FROM responses WHERE id = $id AND project_id = $project");
            Bind(find, ("$id", id), ("$project", projectId));
            if (find.ExecuteScalar() is not long seq)
            {
                return false;
            }
            Remove(w, [seq]);
            return true;
        });

    public async Task<bool> PurgeAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        var (removed, more) = await writer.WriteAsync(w =>
        {
            // Storage order walks the primary key from its oldest end, as the completions' purge does.
            var oldest = w.Command("""
                SELECT seq FROM (SELECT seq, created_at FROM responses ORDER BY seq LIMIT $limit) WHERE created_at < $before
                """);
            Bind(oldest, ("$limit", limit), ("$before", expiredBefore.ToUnixTimeSeconds()));
            var expired = new List<long>();
            using (var reader = oldest.ExecuteReader())
            {
                while (reader.Read())
                {
                    expired.Add(reader.GetInt64(0));
                }
            }
            if (expired.Count > 0)
            {
                Remove(w, expired);
            }
            var tombstones = w.Command("""
                DELETE FROM deleted_responses WHERE id IN (
                    SELECT id FROM deleted_responses WHERE id < $floor ORDER BY id LIMIT $limit)
                """);
            Bind(tombstones, ("$floor", Cairn.OpenAI.Ids.ResponseFloor(expiredBefore - RetentionService.TombstoneGrace)), ("$limit", limit));
            var dropped = tombstones.ExecuteNonQuery();
            return (expired.Count, expired.Count == limit || dropped == limit);
        });
        writer.Metrics.Removed(StoreMetrics.Responses, removed);
        return more;
    }

    /// <summary>The set of responses a removal takes, as SQL: a JSON array of their seqs.</summary>
    private const string Gone = "gone(seq, id, project_id) AS (SELECT seq, id, project_id FROM responses WHERE seq IN (SELECT value FROM json_each($seqs)))";

    /// <summary>
    /// The steps of a removal, in one transaction: fold each response's context into the responses that continued it
    /// and are kept (<see cref="ResponseChainSql.Fold"/>), clear their links, delete the items, leave the responses'
    /// tombstones, delete the responses.
    /// </summary>
    private static readonly string[] RemoveSteps =
    [
        $"WITH RECURSIVE {Gone}, {ResponseChainSql.Heirs} {ResponseChainSql.Fold}",
        $"""
        WITH {Gone} UPDATE responses SET previous_response_id = NULL WHERE seq IN (
            SELECT c.seq FROM gone p JOIN responses c ON c.project_id = p.project_id AND c.previous_response_id = p.id)
        """,
        "DELETE FROM response_items WHERE seq IN (SELECT value FROM json_each($seqs))",
        """
        INSERT OR IGNORE INTO deleted_responses(id, project_id, seq)
        SELECT id, project_id, seq FROM responses WHERE seq IN (SELECT value FROM json_each($seqs))
        """,
        "DELETE FROM responses WHERE seq IN (SELECT value FROM json_each($seqs))",
    ];

    private static void Remove(SqliteWriter w, List<long> seqs)
    {
        var set = "[" + string.Join(",", seqs.Select(s => s.ToString(CultureInfo.InvariantCulture))) + "]";
        RemoveDashboardRows(w, set);
        foreach (var step in RemoveSteps)
        {
            var command = w.Command(step);
            Bind(command, ("$seqs", set));
            command.ExecuteNonQuery();
        }
    }
}
