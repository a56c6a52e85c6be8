using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>Stored completions in one SQLite file: reads from pooled connections, writes through group commit.</summary>
internal sealed partial class SqliteCompletionStore(SqliteWriter writer, SqliteReaders readers) : ICompletionStore
{
    // The last seq handed out; only the writer thread touches it. Seqs are never reused, not even the seq of a
    // deleted newest completion (SQLite's own rowids would be), because a deleted id's tombstone keeps its seq as
    // a paging cursor.
    private long lastSeq = -1;

    public Task AddAsync(StoredCompletion completion, CancellationToken cancellationToken)
    {
        var summary = CompletionSummary.Of(completion);
        return writer.WriteAsync(w => Insert(w, completion, summary));
    }

    private bool Insert(SqliteWriter w, StoredCompletion completion, CompletionSummary summary)
    {
        if (lastSeq < 0)
        {
            lastSeq = (long)w.Command("""
                SELECT max(coalesce((SELECT max(seq) FROM completions), 0), coalesce((SELECT max(seq) FROM deleted_completions), 0))
                """).ExecuteScalar()!;
        }
        var seq = ++lastSeq;
        var insert = w.Command("""
            INSERT INTO completions(seq, id, project_id, model, created, metadata, body)
            VALUES ($seq, $id, $project, $model, $created, $metadata, $body)
            """);
        Bind(insert, ("$seq", seq), ("$id", completion.Id), ("$project", completion.ProjectId), ("$model", completion.Model),
            ("$created", completion.Created), ("$metadata", MetadataJson.Write(completion.Metadata)), ("$body", completion.Body));
        insert.ExecuteNonQuery();
        InsertMetadata(w, completion.ProjectId, seq, completion.Metadata);
        // Many rows per statement: each statement costs more than the rows it adds.
        for (var start = 0; start < completion.Messages.Length; start += MessagesPerInsert)
        {
            var count = Math.Min(MessagesPerInsert, completion.Messages.Length - start);
            var message = w.Command(RowsSql("INSERT INTO completion_messages(seq, idx, body) VALUES ", "($seq, $i{0}, $b{0})", count));
            Set(message, 0, "$seq", seq);
            for (var i = 0; i < count; i++)
            {
                Set(message, 1 + (2 * i), Names.Index[i], start + i);
                Set(message, 2 + (2 * i), Names.Body[i], completion.Messages[start + i]);
            }
            message.ExecuteNonQuery();
        }
        InsertSummary(w, seq, completion, summary);
        return true;
    }

    public Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken) =>
        Task.FromResult(Read(session =>
        {
            var command = session.Command("SELECT body FROM completions WHERE id = $id AND project_id = $project");
            Bind(command, ("$id", id), ("$project", projectId));
            return command.ExecuteScalar() as byte[];
        }));

    public Task<(StoredPage? Page, ListFailure Failure)> ListAsync(long projectId, CompletionQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(Read(session =>
        {
            long? after = null;
            if (query.After is { } afterId)
            {
                var cursor = session.Command("""
                    SELECT seq FROM completions WHERE id = $id AND project_id = $project
                    UNION ALL SELECT seq FROM deleted_completions WHERE id = $id AND project_id = $project
                    LIMIT 1
                    """);
                Bind(cursor, ("$id", afterId), ("$project", projectId));
                after = cursor.ExecuteScalar() as long?;
                if (after is null)
                {
                    return ((StoredPage?)null, ListFailure.UnknownCursor);
                }
            }
            var drive = Driver.FirstPair;
            if (query.Metadata.Count + (query.Model is null ? 0 : 1) > 1)
            {
                (query, drive) = ChooseDriver(session, projectId, query, after);
                if (drive == Driver.Empty)
                {
                    return (new StoredPage([], false), ListFailure.None);
                }
            }
            var command = session.Command(ListSql(query, after is not null, drive));
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$project", projectId);
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            if (after is { } seq)
            {
                command.Parameters.AddWithValue("$after", seq);
            }
            if (query.Model is { } model)
            {
                command.Parameters.AddWithValue("$model", model);
            }
            for (var i = 0; i < query.Metadata.Count; i++)
            {
                command.Parameters.AddWithValue(Names.Key[i], query.Metadata[i].Key);
                command.Parameters.AddWithValue(Names.Value[i], query.Metadata[i].Value);
            }
            return (Page(command, query.Limit, query.MaxBytes, reader => reader.GetString(0)), ListFailure.None);
        }));

    /// <summary>Which index a filtered list walks: the one with the fewest rows to visit.</summary>
    private enum Driver
    {
        FirstPair,
        Model,
        Empty,
    }

    /// <summary>How many index entries a probe counts before it stops: enough to tell a selective filter from a broad one.</summary>
    private const int ProbeLimit = 512;

    /// <summary>
    /// Picks the filter to drive the walk from when several are given. A walk visits every row its driving filter
    /// matches until the page is full, so driving from a broad filter (10% of a million rows) while a narrow one
    /// (100 rows) rejects almost all of them costs a million-row scan. Each filter's matches past the cursor are
    /// counted in its own index, up to <see cref="ProbeLimit"/>, and the smallest count drives; the query comes back
    /// with that metadata pair first. A filter with no match at all answers the list with an empty page at once.
    /// </summary>
    private static (CompletionQuery Query, Driver Drive) ChooseDriver(PreparedConnection session, long projectId, CompletionQuery query, long? after)
    {
        var compare = query.Ascending ? ">" : "<";
        var cursor = after is null ? "" : $" AND seq {compare} $after";
        var best = -1;
        var bestCount = long.MaxValue;
        if (query.Model is { } model)
        {
            var probe = session.Command($"SELECT count(*) FROM (SELECT 1 FROM completions WHERE project_id = $project AND model = $model{cursor} LIMIT {ProbeLimit})");
            BindProbe(probe, projectId, after, ("$model", model));
            bestCount = (long)probe.ExecuteScalar()!;
        }
        for (var i = 0; i < query.Metadata.Count && bestCount > 0; i++)
        {
            var probe = session.Command($"SELECT count(*) FROM (SELECT 1 FROM completion_metadata WHERE project_id = $project AND key = $key AND value = $value{cursor} LIMIT {ProbeLimit})");
            BindProbe(probe, projectId, after, ("$key", query.Metadata[i].Key), ("$value", query.Metadata[i].Value));
            var count = (long)probe.ExecuteScalar()!;
            if (count < bestCount)
            {
                (best, bestCount) = (i, count);
            }
        }
        if (bestCount == 0)
        {
            return (query, Driver.Empty);
        }
        if (best < 0)
        {
            return (query, Driver.Model);
        }
        if (best == 0)
        {
            return (query, Driver.FirstPair);
        }
        var pairs = new List<KeyValuePair<string, string>>(query.Metadata);
        (pairs[0], pairs[best]) = (pairs[best], pairs[0]);
        return (query with { Metadata = pairs }, Driver.FirstPair);
    }

    private static void BindProbe(SqliteCommand probe, long projectId, long? after, params ReadOnlySpan<(string Name, object Value)> filter)
    {
        probe.Parameters.Clear();
        probe.Parameters.AddWithValue("$project", projectId);
        if (after is { } seq)
        {
            probe.Parameters.AddWithValue("$after", seq);
        }
        foreach (var (name, value) in filter)
        {
            probe.Parameters.AddWithValue(name, value);
        }
    }

    /// <summary>
    /// The list query for a shape of filters. The driving filter walks its index in list order, so a page costs
    /// its own rows even at millions stored; the other filters are checked per row.
    /// </summary>
    private static string ListSql(CompletionQuery query, bool hasCursor, Driver drive)
    {
        var order = query.Ascending ? "ASC" : "DESC";
        var compare = query.Ascending ? ">" : "<";
        var sql = new StringBuilder();
        if (query.Metadata.Count == 0 || drive == Driver.Model)
        {
            sql.Append("SELECT c.id, c.body, length(c.body) FROM completions c WHERE c.project_id = $project");
            if (query.Model is not null)
            {
                sql.Append(" AND c.model = $model");
            }
            if (hasCursor)
            {
                sql.Append(" AND c.seq ").Append(compare).Append(" $after");
            }
            AppendPairChecks(sql, query, first: 0, seq: "c.seq");
            return sql.Append(" ORDER BY c.seq ").Append(order).Append(" LIMIT $limit").ToString();
        }
        sql.Append("SELECT c.id, c.body, length(c.body) FROM completion_metadata m0 CROSS JOIN completions c ")
           .Append("WHERE m0.project_id = $project AND m0.key = $k0 AND m0.value = $v0 AND c.seq = m0.seq");
        if (hasCursor)
        {
            sql.Append(" AND m0.seq ").Append(compare).Append(" $after");
        }
        if (query.Model is not null)
        {
            sql.Append(" AND c.model = $model");
        }
        AppendPairChecks(sql, query, first: 1, seq: "m0.seq");
        return sql.Append(" ORDER BY m0.seq ").Append(order).Append(" LIMIT $limit").ToString();
    }

    private static void AppendPairChecks(StringBuilder sql, CompletionQuery query, int first, string seq)
    {
        for (var i = first; i < query.Metadata.Count; i++)
        {
            sql.Append(" AND EXISTS (SELECT 1 FROM completion_metadata m WHERE m.project_id = $project AND m.key = $k")
               .Append(i).Append(" AND m.value = $v").Append(i).Append(" AND m.seq = ").Append(seq).Append(')');
        }
    }

    public Task<byte[]?> UpdateMetadataAsync(
        long projectId, string id, IReadOnlyDictionary<string, string> metadata, Func<byte[], byte[]> rewrite, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            if (Find(w, projectId, id) is not { } row)
            {
                return null;
            }
            DeleteMetadata(w, projectId, row.Seq, row.Metadata);
            InsertMetadata(w, projectId, row.Seq, metadata);
            var body = rewrite(row.Body);
            var update = w.Command("UPDATE completions SET metadata = $metadata, body = $body WHERE seq = $seq");
            Bind(update, ("$metadata", MetadataJson.Write(metadata)), ("$body", body), ("$seq", row.Seq));
            update.ExecuteNonQuery();
            return body;
        });

    public Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            if (Find(w, projectId, id) is not { } row)
            {
                return false;
            }
            Remove(w, projectId, id, row.Seq, row.Metadata);
            return true;
        });

    public Task<(StoredPage? Page, ListFailure Failure)> ListMessagesAsync(
        long projectId, string id, MessageQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(Read(session =>
        {
            var find = session.Command("SELECT seq FROM completions WHERE id = $id AND project_id = $project");
            Bind(find, ("$id", id), ("$project", projectId));
            if (find.ExecuteScalar() is not long seq)
            {
                return ((StoredPage?)null, ListFailure.NotFound);
            }
            var order = query.Ascending ? "ASC" : "DESC";
            var compare = query.Ascending ? ">" : "<";
            var sql = query.AfterIndex is null
                ? $"SELECT idx, body, length(body) FROM completion_messages WHERE seq = $seq ORDER BY idx {order} LIMIT $limit"
                : $"SELECT idx, body, length(body) FROM completion_messages WHERE seq = $seq AND idx {compare} $after ORDER BY idx {order} LIMIT $limit";
            var command = session.Command(sql);
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$seq", seq);
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            if (query.AfterIndex is { } after)
            {
                command.Parameters.AddWithValue("$after", after);
            }
            return (Page(command, query.Limit, query.MaxBytes, reader => $"{id}-{reader.GetInt64(0)}"), ListFailure.None);
        }));

    public Task<bool> PingAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Read(session => session.Command("PRAGMA user_version").ExecuteScalar() is long version && version == SqliteSchema.Version));

    /// <summary>
    /// Reads a page of rows (id, body, length of body): a body is read only if it fits the page's byte budget, and
    /// the first that does not ends the page, with more to follow.
    /// </summary>
    private static StoredPage Page(SqliteCommand command, int limit, long maxBytes, Func<SqliteDataReader, string> id)
    {
        var items = new List<StoredItem>(Math.Min(limit + 1, 128));
        long bytes = 0;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var size = reader.GetInt64(2);
                if (items.Count < limit && !StoredPage.Fits(items.Count, bytes, size, maxBytes))
                {
                    return new StoredPage(items, HasMore: true);
                }
                bytes += size;
                // The row past the limit only tells that more follow: its body is not read.
                items.Add(new StoredItem(id(reader), items.Count < limit ? (byte[])reader.GetValue(1) : []));
            }
        }
        return Trim(items, limit);
    }

    private static StoredPage Trim(List<StoredItem> items, int limit)
    {
        var hasMore = items.Count > limit;
        if (hasMore)
        {
            items.RemoveAt(items.Count - 1);
        }
        return new StoredPage(items, hasMore);
    }

    private T Read<T>(Func<PreparedConnection, T> read) => readers.Read(read);

    private static (long Seq, byte[] Body, string Metadata)? Find(SqliteWriter w, long projectId, string id)
    {
        var find = w.Command("SELECT seq, body, metadata FROM completions WHERE id = $id AND project_id = $project");
        Bind(find, ("$id", id), ("$project", projectId));
        using var reader = find.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetString(2)) : null;
    }

    private const int MessagesPerInsert = 64;

    private static void InsertMetadata(SqliteWriter w, long projectId, long seq, IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.Count == 0)
        {
            return;
        }
        var insert = w.Command(RowsSql("INSERT INTO completion_metadata(project_id, key, value, seq) VALUES ", "($project, $k{0}, $v{0}, $seq)", metadata.Count));
        Set(insert, 0, "$project", projectId);
        Set(insert, 1, "$seq", seq);
        var i = 0;
        foreach (var (key, value) in metadata)
        {
            Set(insert, 2 + (2 * i), Names.Key[i], key);
            Set(insert, 3 + (2 * i), Names.Value[i], value);
            i++;
        }
        insert.ExecuteNonQuery();
    }

    /// <summary>An INSERT of <paramref name="count"/> rows; the text is the same for the same count, so it is prepared once.</summary>
    private static string RowsSql(string head, string row, int count) =>
        head + string.Join(", ", Enumerable.Range(0, count).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, row, i)));

    /// <summary>Parameter names made once, not per row.</summary>
    private static class Names
    {
        public static readonly string[] Key = Make("$k", MetadataLimit);
        public static readonly string[] Value = Make("$v", MetadataLimit);
        public static readonly string[] Index = Make("$i", MessagesPerInsert);
        public static readonly string[] Body = Make("$b", MessagesPerInsert);

        private const int MetadataLimit = 16;

        private static string[] Make(string prefix, int count) =>
            [.. Enumerable.Range(0, count).Select(i => prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>Deletes a completion's row, messages and index entries, and keeps its place (a tombstone) so a client paging with <c>after</c> it can go on.</summary>
    private static void Remove(SqliteWriter w, long projectId, string id, long seq, string metadataJson)
    {
        DeleteSummary(w, seq);
        DeleteMetadata(w, projectId, seq, metadataJson);
        var messages = w.Command("DELETE FROM completion_messages WHERE seq = $seq");
        Bind(messages, ("$seq", seq));
        messages.ExecuteNonQuery();
        var completion = w.Command("DELETE FROM completions WHERE seq = $seq");
        Bind(completion, ("$seq", seq));
        completion.ExecuteNonQuery();
        var tombstone = w.Command("INSERT OR IGNORE INTO deleted_completions(id, project_id, seq) VALUES ($id, $project, $seq)");
        Bind(tombstone, ("$id", id), ("$project", projectId), ("$seq", seq));
        tombstone.ExecuteNonQuery();
    }

    private static void DeleteMetadata(SqliteWriter w, long projectId, long seq, string metadataJson)
    {
        var delete = w.Command("DELETE FROM completion_metadata WHERE project_id = $project AND key = $key AND value = $value AND seq = $seq");
        using var document = JsonDocument.Parse(metadataJson);
        foreach (var pair in document.RootElement.EnumerateObject())
        {
            Bind(delete, ("$project", projectId), ("$key", pair.Name), ("$value", pair.Value.GetString()!), ("$seq", seq));
            delete.ExecuteNonQuery();
        }
    }
}
