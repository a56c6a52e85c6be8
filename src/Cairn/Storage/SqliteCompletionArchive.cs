using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage;

/// <summary>
/// Archive reads of a SQLite store. Each batch is one short read on a pooled connection, so an export of millions
/// never holds a read transaction open (which would keep the WAL from being checkpointed) and never holds more
/// than one batch in memory.
/// </summary>
internal sealed class SqliteCompletionArchive(SqliteReaders readers) : ICompletionArchive
{
    public Task<IReadOnlyList<ArchivedCompletion>> ReadBatchAsync(ArchiveQuery query, long afterSeq, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(readers.Read(session =>
        {
            var command = session.Command(Sql(query, "c.seq, c.id, c.project_id, c.model, c.created, c.body", batch: true));
            Bind(command, query);
            command.Parameters.AddWithValue("$after", afterSeq);
            command.Parameters.AddWithValue("$limit", limit);
            var rows = new List<(long Seq, string Id, long Project, string Model, long Created, byte[] Body)>(limit);
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4), (byte[])reader.GetValue(5)));
                }
            }
            // One prepared lookup per completion: in process, that costs less than building an IN list per batch.
            var messages = session.Command("SELECT body FROM completion_messages WHERE seq = $seq ORDER BY idx");
            var batch = new List<ArchivedCompletion>(rows.Count);
            foreach (var row in rows)
            {
                messages.Parameters.Clear();
                messages.Parameters.AddWithValue("$seq", row.Seq);
                var items = new List<byte[]>();
                using (var reader = messages.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        items.Add((byte[])reader.GetValue(0));
                    }
                }
                batch.Add(new ArchivedCompletion(row.Seq, row.Id, row.Project, row.Model, row.Created, row.Body, [.. items]));
            }
            return (IReadOnlyList<ArchivedCompletion>)batch;
        }));

    public Task<long> CountAsync(ArchiveQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(readers.Read(session =>
        {
            var command = session.Command(Sql(query, "count(*)", batch: false));
            Bind(command, query);
            return (long)command.ExecuteScalar()!;
        }));

    public Task<IReadOnlySet<string>> TakenIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        Task.FromResult(readers.Read(session =>
        {
            var command = session.Command("""
                SELECT id FROM completions WHERE id IN (SELECT value FROM json_each($ids))
                UNION SELECT id FROM deleted_completions WHERE id IN (SELECT value FROM json_each($ids))
                """);
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids, Cairn.OpenAI.CairnJson.Default.IReadOnlyCollectionString));
            var taken = new HashSet<string>(StringComparer.Ordinal);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                taken.Add(reader.GetString(0));
            }
            return (IReadOnlySet<string>)taken;
        }));

    /// <summary>
    /// The query for a shape of filters. With a project and a metadata pair, the pair's index range drives the walk
    /// in seq order; with a project and a model, the model index; with a project, the project index; otherwise the
    /// primary key. Every other filter is checked per row, and the keyset cursor (<c>seq &gt; $after</c>) makes each
    /// batch start where the last one ended.
    /// </summary>
    private static string Sql(ArchiveQuery query, string columns, bool batch)
    {
        var sql = new StringBuilder("SELECT ").Append(columns);
        var first = 0;
        string seq;
        if (query.ProjectId is not null && query.Metadata.Count > 0)
        {
            sql.Append(" FROM completion_metadata m0 CROSS JOIN completions c")
               .Append(" WHERE m0.project_id = $project AND m0.key = $k0 AND m0.value = $v0 AND c.seq = m0.seq");
            (first, seq) = (1, "m0.seq");
        }
        else
        {
            sql.Append(" FROM completions c WHERE 1 = 1");
            if (query.ProjectId is not null)
            {
                sql.Append(" AND c.project_id = $project");
            }
            seq = "c.seq";
        }
        if (batch)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {seq} > $after");
        }
        if (query.Model is not null)
        {
            sql.Append(" AND c.model = $model");
        }
        if (query.FromSeconds is not null)
        {
            sql.Append(" AND c.created >= $from");
        }
        if (query.ToSeconds is not null)
        {
            sql.Append(" AND c.created < $to");
        }
        for (var i = first; i < query.Metadata.Count; i++)
        {
            sql.Append(CultureInfo.InvariantCulture,
                $" AND EXISTS (SELECT 1 FROM completion_metadata m WHERE m.project_id = c.project_id AND m.key = $k{i} AND m.value = $v{i} AND m.seq = c.seq)");
        }
        if (batch)
        {
            sql.Append(CultureInfo.InvariantCulture, $" ORDER BY {seq} LIMIT $limit");
        }
        return sql.ToString();
    }

    private static void Bind(SqliteCommand command, ArchiveQuery query)
    {
        command.Parameters.Clear();
        if (query.ProjectId is { } project)
        {
            command.Parameters.AddWithValue("$project", project);
        }
        if (query.Model is { } model)
        {
            command.Parameters.AddWithValue("$model", model);
        }
        if (query.FromSeconds is { } from)
        {
            command.Parameters.AddWithValue("$from", from);
        }
        if (query.ToSeconds is { } to)
        {
            command.Parameters.AddWithValue("$to", to);
        }
        for (var i = 0; i < query.Metadata.Count; i++)
        {
            command.Parameters.AddWithValue(string.Create(CultureInfo.InvariantCulture, $"$k{i}"), query.Metadata[i].Key);
            command.Parameters.AddWithValue(string.Create(CultureInfo.InvariantCulture, $"$v{i}"), query.Metadata[i].Value);
        }
    }
}
