using System.Runtime.InteropServices;
using System.Globalization;
using System.Text;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>The dashboard's reads on SQLite, from the pooled read connections.</summary>
internal sealed class SqliteDashboardStore(SqliteReaders readers, SqliteCompletionStore store) : IDashboardStore
{
    public async Task<CompletionRows> ListAsync(DashboardFilter filter, PageCursor cursor, int limit, CancellationToken cancellationToken)
    {
        if (filter.Words.Count > 0)
        {
            // Search words reach the full-text index in batches; move the waiting ones first so the search sees all.
            await store.Search.CatchUpAsync();
        }
        return await readers.ReadAsync(session =>
        {
            SeqRange? range = null;
            if (filter.From is not null || filter.To is not null)
            {
                range = Range(session, filter);
                if (range is null)
                {
                    return new CompletionRows([], false, cursor.Before is not null);
                }
            }
            var rareEverywhere = filter.ProjectId is null && filter.Metadata.Count > 0 && filter.Words.Count == 0 && IsRareEverywhere(session, filter);
            var command = ListSql(filter, cursor, range, limit, rareEverywhere).Command(session);
            var rows = new List<CompletionRow>(Paging.OverFetch(limit));
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add(new CompletionRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4),
                        MetadataJson.Parse(reader.GetString(5)), reader.IsDBNull(6) ? null : reader.GetString(6),
                        reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetInt64(8), reader.GetInt64(9)));
                }
            }
            return DashboardPages.Page(rows, cursor, limit);
        }, cancellationToken);
    }

    private static SeqRange? Range(PreparedConnection session, DashboardFilter filter)
    {
        var (firstHour, lastHour) = SeqRange.Hours(filter.From, filter.To);
        var sql = new StringBuilder("SELECT min(first_seq), max(last_seq) FROM completion_rollup WHERE hour BETWEEN $first AND $last");
        if (filter.ProjectId is not null)
        {
            sql.Append(" AND project_id = $project");
        }
        if (filter.Model is not null)
        {
            sql.Append(" AND model = $model");
        }
        var command = session.Command(sql.ToString());
        List<(string Name, object Value)> parameters = [("$first", firstHour), ("$last", lastHour)];
        if (filter.ProjectId is { } project)
        {
            parameters.Add(("$project", project));
        }
        if (filter.Model is { } model)
        {
            parameters.Add(("$model", model));
        }
        SqliteBinding.Bind(command, CollectionsMarshal.AsSpan(parameters));
        using var reader = command.ExecuteReader();
        return reader.Read() && !reader.IsDBNull(0) ? new SeqRange(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    private const int ProbeLimit = 50_000;

    /// <summary>
    /// Whether the first metadata pair matches fewer than <see cref="ProbeLimit"/> rows over every project (counted in
    /// the index, a few milliseconds). The
    /// metadata index starts with the project, so the admin's view cannot walk it in storage order; a rare pair's
    /// rows are then looked up project by project and sorted, and a common one is met soon enough walking storage order.
    /// </summary>
    private static bool IsRareEverywhere(PreparedConnection session, DashboardFilter filter)
    {
        var probe = session.Command($"""
            SELECT count(*) FROM (SELECT 1 FROM projects x CROSS JOIN completion_metadata m
                WHERE m.project_id = x.id AND m.key = $key AND m.value = $value LIMIT {ProbeLimit})
            """);
        SqliteBinding.Bind(probe, ("$key", filter.Metadata[0].Key), ("$value", filter.Metadata[0].Value));
        return (long)probe.ExecuteScalar()! < ProbeLimit;
    }

    /// <summary>
    /// The list query. One index drives the walk in storage order and the other filters are checked per row: the
    /// search index when there are words (FTS5 walks its matches by rowid), else the first metadata pair's index
    /// within a project, else the completions' own (by project and model, or by seq for every project).
    /// </summary>
    private static SqliteSql ListSql(DashboardFilter filter, PageCursor cursor, SeqRange? range, int limit, bool rareEverywhere)
    {
        var sql = new SqliteSql().Append("SELECT c.seq, c.id, c.project_id, c.model, c.created, c.metadata, p.prompt, p.answer, ")
            .Append("coalesce(p.prompt_tokens, 0), coalesce(p.completion_tokens, 0) FROM ");
        string seq;
        if (filter.Words.Count > 0)
        {
            sql.Append("search.completion_search s CROSS JOIN completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE completion_search MATCH ")
               .Append(sql.Parameter("$match", string.Join(' ', filter.Words.Select(w => $"\"{w}\"*")))).Append(" AND c.seq = s.rowid")
               .Where(filter);
            seq = "s.rowid";
        }
        else if (filter.Metadata.Count > 0 && filter.ProjectId is not null)
        {
            sql.FirstPairWithinProject(filter, " LEFT JOIN completion_previews p ON p.seq = c.seq")
               .Where(filter, firstPair: 1, projectApplied: true);
            seq = "m0.seq";
        }
        else if (rareEverywhere)
        {
            sql.Append("completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE c.seq IN (")
               .Append("SELECT m0.seq FROM projects x CROSS JOIN completion_metadata m0 WHERE m0.project_id = x.id AND m0.key = ")
               .Append(sql.Parameter(SqliteBinding.Key(0), filter.Metadata[0].Key))
               .Append(" AND m0.value = ").Append(sql.Parameter(SqliteBinding.Value(0), filter.Metadata[0].Value)).Append(")")
               .Where(filter, firstPair: 1);
            seq = "c.seq";
        }
        else
        {
            sql.Append("completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE 1").Where(filter);
            seq = "c.seq";
        }
        if (range is { } r)
        {
            sql.Append(" AND ").Append(seq).Append(" BETWEEN ").Append(sql.Parameter("$firstSeq", r.First))
               .Append(" AND ").Append(sql.Parameter("$lastSeq", r.Last));
        }
        return sql.Page(seq, cursor, limit);
    }

    public Task<long?> CursorAsync(long? projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var find = session.Command(projectId is null
                ? "SELECT seq FROM completions WHERE id = $id UNION ALL SELECT seq FROM deleted_completions WHERE id = $id LIMIT 1"
                : """
                  SELECT seq FROM completions WHERE id = $id AND project_id = $project
                  UNION ALL SELECT seq FROM deleted_completions WHERE id = $id AND project_id = $project LIMIT 1
                  """);
            List<(string Name, object Value)> findValues = [];
            findValues.Add(("$id", id));
            if (projectId is { } project)
            {
                findValues.Add(("$project", project));
            }
            SqliteBinding.Bind(find, CollectionsMarshal.AsSpan(findValues));
            return find.ExecuteScalar() as long?;
        }, cancellationToken);

    public Task<CompletionDetail?> GetAsync(long? projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var find = session.Command(projectId is null
                ? "SELECT c.seq, c.project_id, c.body, p.latency_ms, p.trace_id FROM completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE c.id = $id"
                : "SELECT c.seq, c.project_id, c.body, p.latency_ms, p.trace_id FROM completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE c.id = $id AND c.project_id = $project");
            List<(string Name, object Value)> findValues = [];
            findValues.Add(("$id", id));
            if (projectId is { } project)
            {
                findValues.Add(("$project", project));
            }
            long seq, owner;
            byte[] body;
            long? latency;
            string? trace;
            SqliteBinding.Bind(find, CollectionsMarshal.AsSpan(findValues));
            using (var reader = find.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return null;
                }
                (seq, owner, body, latency) = (reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2), reader.IsDBNull(3) ? null : reader.GetInt64(3));
                trace = reader.IsDBNull(4) ? null : reader.GetString(4);
            }
            var messages = session.Command("SELECT body FROM completion_messages WHERE seq = $seq ORDER BY idx LIMIT $limit");
            SqliteBinding.Bind(messages, ("$seq", seq), ("$limit", IDashboardStore.MaxMessages));
            var items = new List<byte[]>();
            using (var reader = messages.ExecuteReader())
            {
                while (reader.Read())
                {
                    items.Add((byte[])reader.GetValue(0));
                }
            }
            return new CompletionDetail(owner, id, body, items, latency, trace);
        }, cancellationToken);

    public Task<IReadOnlyList<UsagePoint>> UsageAsync(long? projectId, long from, long to, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var usage = session.Command(projectId is null
                ? "SELECT hour, model, sum(requests), sum(prompt_tokens), sum(completion_tokens) FROM completion_rollup WHERE hour >= $from AND hour < $to GROUP BY hour, model ORDER BY hour, model"
                : "SELECT hour, model, requests, prompt_tokens, completion_tokens FROM completion_rollup WHERE project_id = $project AND hour >= $from AND hour < $to ORDER BY hour, model");
            List<(string Name, object Value)> usageValues = [];
            usageValues.Add(("$from", from));
            usageValues.Add(("$to", to));
            if (projectId is { } project)
            {
                usageValues.Add(("$project", project));
            }
            var points = new List<UsagePoint>();
            SqliteBinding.Bind(usage, CollectionsMarshal.AsSpan(usageValues));
            using var reader = usage.ExecuteReader();
            while (reader.Read())
            {
                points.Add(new UsagePoint(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            }
            return (IReadOnlyList<UsagePoint>)points;
        }, cancellationToken);

    public Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var models = session.Command(projectId is null
                ? "SELECT DISTINCT model FROM completion_rollup WHERE requests > 0 ORDER BY model"
                : "SELECT DISTINCT model FROM completion_rollup WHERE project_id = $project AND requests > 0 ORDER BY model");
            List<(string Name, object Value)> modelsValues = [];
            if (projectId is { } project)
            {
                modelsValues.Add(("$project", project));
            }
            var names = new List<string>();
            SqliteBinding.Bind(models, CollectionsMarshal.AsSpan(modelsValues));
            using var reader = models.ExecuteReader();
            while (reader.Read())
            {
                names.Add(reader.GetString(0));
            }
            return (IReadOnlyList<string>)names;
        }, cancellationToken);
}
