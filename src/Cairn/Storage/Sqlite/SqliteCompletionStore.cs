using System.Text.Json;
using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>Stored completions in one SQLite file: reads from pooled connections, writes through group commit.</summary>
internal sealed partial class SqliteCompletionStore(SqliteWriter writer, SqliteReaders readers, SqliteSearchIndex search) : ICompletionStore
{
    // The last seq handed out; only the writer thread touches it. Seqs are never reused, not even the seq of a
    // deleted newest completion (SQLite's own rowids would be), because a deleted id's tombstone keeps its seq as
    // a paging cursor.
    private long lastSeq = -1;

    /// <summary>The newest seq this store handed out that it still knows of: a stored completion's or a tombstone's.</summary>
    internal const string NewestSeqSql =
        "SELECT max(coalesce((SELECT max(seq) FROM completions), 0), coalesce((SELECT max(seq) FROM deleted_completions), 0))";

    public Task AddAsync(StoredCompletion completion, CancellationToken cancellationToken)
    {
        var summary = CompletionSummary.Of(completion);
        return writer.WriteAsync(w => Insert(w, completion, summary));
    }

    private bool Insert(SqliteWriter w, StoredCompletion completion, CompletionSummary summary)
    {
        if (lastSeq < 0)
        {
            lastSeq = (long)w.Command(NewestSeqSql).ExecuteScalar()!;
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
                Set(message, 1 + (2 * i), SqliteBinding.Index(i), start + i);
                Set(message, 2 + (2 * i), SqliteBinding.Body(i), completion.Messages[start + i]);
            }
            message.ExecuteNonQuery();
        }
        InsertSummary(w, seq, completion, summary);
        return true;
    }

    public Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command("SELECT body FROM completions WHERE id = $id AND project_id = $project");
            Bind(command, ("$id", id), ("$project", projectId));
            return command.ExecuteScalar() as byte[];
        }, cancellationToken);

    public Task<(StoredPage? Page, ListFailure Failure)> ListAsync(long projectId, CompletionQuery query, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
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
            var command = ListSql(query.Filter(projectId), query, after, drive).Command(session);
            return (SqlitePage.Read(command, query.Limit, query.MaxBytes, reader => reader.GetString(0)), ListFailure.None);
        }, cancellationToken);

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
        var best = -1;
        var bestCount = long.MaxValue;
        if (query.Model is { } model)
        {
            bestCount = Probe(session, "completions", projectId, query.Ascending, after, ("model", "$model", model));
        }
        for (var i = 0; i < query.Metadata.Count && bestCount > 0; i++)
        {
            var count = Probe(session, "completion_metadata", projectId, query.Ascending, after,
                ("key", "$key", query.Metadata[i].Key), ("value", "$value", query.Metadata[i].Value));
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

    /// <summary>How many rows of <paramref name="table"/>'s project index match <paramref name="filter"/> past the cursor, up to <see cref="ProbeLimit"/>.</summary>
    private static long Probe(
        PreparedConnection session, string table, long projectId, bool ascending, long? after, params ReadOnlySpan<(string Column, string Name, object Value)> filter)
    {
        var sql = new SqliteSql();
        sql.Append("SELECT count(*) FROM (SELECT 1 FROM ").Append(table).Append(" WHERE project_id = ").Append(sql.Parameter("$project", projectId));
        foreach (var (column, name, value) in filter)
        {
            sql.Append(" AND ").Append(column).Append(" = ").Append(sql.Parameter(name, value));
        }
        if (after is { } seq)
        {
            sql.Append(ascending ? " AND seq > " : " AND seq < ").Append(sql.Parameter("$after", seq));
        }
        sql.Append(ProbeEnd);
        return (long)sql.Command(session).ExecuteScalar()!;
    }

    private static readonly string ProbeEnd = string.Create(System.Globalization.CultureInfo.InvariantCulture, $" LIMIT {ProbeLimit})");

    /// <summary>
    /// The list query for a shape of filters. The driving filter walks its index in list order, so a page costs
    /// its own rows even at millions stored; the other filters are checked per row.
    /// </summary>
    private static SqliteSql ListSql(CompletionFilter filter, CompletionQuery query, long? after, Driver drive)
    {
        var sql = new SqliteSql().Append("SELECT c.id, c.body, length(c.body) FROM ");
        string seq;
        if (filter.Metadata.Count == 0 || drive == Driver.Model)
        {
            sql.Append("completions c WHERE 1 = 1").Where(filter);
            seq = "c.seq";
        }
        else
        {
            sql.FirstPairWithinProject(filter).Where(filter, firstPair: 1, projectApplied: true);
            seq = "m0.seq";
        }
        if (after is { } cursor)
        {
            sql.Append(" AND ").Append(seq).Append(query.Ascending ? " > " : " < ").Append(sql.Parameter("$after", cursor));
        }
        return sql.OrderBy(seq, query.Ascending, Paging.OverFetch(query.Limit));
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

    public async Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken)
    {
        var removed = await writer.WriteAsync(w =>
        {
            if (Find(w, projectId, id) is not { } row)
            {
                return (long?)null;
            }
            Remove(w, projectId, id, row.Seq, row.Metadata);
            return row.Seq;
        });
        if (removed is { } seq)
        {
            search.Forget([seq]);
        }
        return removed is not null;
    }

    /// <summary>The search index (the dashboard's search moves newly stored words into it first).</summary>
    public SqliteSearchIndex Search => search;

    public Task<(StoredPage? Page, ListFailure Failure)> ListMessagesAsync(
        long projectId, string id, MessageQuery query, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var find = session.Command("SELECT seq FROM completions WHERE id = $id AND project_id = $project");
            Bind(find, ("$id", id), ("$project", projectId));
            if (find.ExecuteScalar() is not long seq)
            {
                return ((StoredPage?)null, ListFailure.NotFound);
            }
            var sql = new SqliteSql();
            sql.Append("SELECT idx, body, length(body) FROM completion_messages WHERE seq = ").Append(sql.Parameter("$seq", seq));
            if (query.AfterIndex is { } after)
            {
                sql.Append(query.Ascending ? " AND idx > " : " AND idx < ").Append(sql.Parameter("$after", after));
            }
            var command = sql.OrderBy("idx", query.Ascending, Paging.OverFetch(query.Limit)).Command(session);
            return (SqlitePage.Read(command, query.Limit, query.MaxBytes, reader => $"{id}-{reader.GetInt64(0)}"), ListFailure.None);
        }, cancellationToken);

    public Task<bool> PingAsync(CancellationToken cancellationToken) =>
        readers.ReadAsync(session => session.Command("PRAGMA user_version").ExecuteScalar() is long version && version == SqliteSchema.Version, cancellationToken);

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
            Set(insert, 2 + (2 * i), SqliteBinding.Key(i), key);
            Set(insert, 3 + (2 * i), SqliteBinding.Value(i), value);
            i++;
        }
        insert.ExecuteNonQuery();
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
