using System.Text.Json;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Archive reads of a SQLite store. Each batch is one short read on a pooled connection, so an export of millions
/// never holds a read transaction open (which would keep the WAL from being checkpointed) and never holds more
/// than one batch in memory.
/// </summary>
internal sealed class SqliteCompletionArchive(SqliteReaders readers) : ICompletionArchive
{
    public Task<IReadOnlyList<ArchivedCompletion>> ReadBatchAsync(CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = Sql(filter, "c.seq, c.id, c.project_id, c.model, c.created, c.body", afterSeq, limit).Command(session);
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
                cancellationToken.ThrowIfCancellationRequested();
                SqliteBinding.Bind(messages, ("$seq", row.Seq));
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
        }, cancellationToken);

    public Task<long> CountAsync(CompletionFilter filter, CancellationToken cancellationToken) =>
        readers.ReadAsync(session => (long)Sql(filter, "count(*)", afterSeq: null, limit: null).Command(session).ExecuteScalar()!, cancellationToken);

    public Task<IReadOnlySet<string>> TakenIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command("""
                SELECT id FROM completions WHERE id IN (SELECT value FROM json_each($ids))
                UNION SELECT id FROM deleted_completions WHERE id IN (SELECT value FROM json_each($ids))
                """);
            SqliteBinding.Bind(command, ("$ids", JsonSerializer.Serialize(ids, Cairn.OpenAI.CairnJson.Default.IReadOnlyCollectionString)));
            var taken = new HashSet<string>(StringComparer.Ordinal);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                taken.Add(reader.GetString(0));
            }
            return (IReadOnlySet<string>)taken;
        }, cancellationToken);

    /// <summary>
    /// The query for a shape of filters. With a project and a metadata pair, the pair's index range drives the walk
    /// in seq order; with a project and a model, the model index; with a project, the project index; otherwise the
    /// primary key. Every other filter is checked per row, and the keyset cursor (<c>seq &gt; $after</c>) makes each
    /// batch start where the last one ended.
    /// </summary>
    private static SqliteSql Sql(CompletionFilter filter, string columns, long? afterSeq, int? limit)
    {
        var sql = new SqliteSql().Append("SELECT ").Append(columns).Append(" FROM ");
        string seq;
        if (filter.ProjectId is not null && filter.Metadata.Count > 0)
        {
            sql.FirstPairWithinProject(filter).Where(filter, firstPair: 1, projectApplied: true);
            seq = "m0.seq";
        }
        else
        {
            sql.Append("completions c WHERE 1 = 1").Where(filter);
            seq = "c.seq";
        }
        if (afterSeq is { } after)
        {
            sql.Append(" AND ").Append(seq).Append(" > ").Append(sql.Parameter("$after", after));
        }
        return limit is { } n ? sql.OrderBy(seq, ascending: true, n) : sql;
    }
}
