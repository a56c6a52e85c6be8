using System.Text.Json;
using Cairn.OpenAI;
using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Archive reads of stored responses: a batch is one short read on a pooled connection, walking the responses in
/// storage order (there is no index on their project, model or metadata: every filter is checked per row), so an
/// export never holds a read transaction open for long.
/// </summary>
internal sealed partial class SqliteResponseStore : IResponseArchive
{
    public Task<IReadOnlyList<ArchivedResponse>> ReadBatchAsync(CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var sql = new SqliteSql().Append("SELECT r.seq, r.id, r.project_id, r.model, r.created_at, r.previous_response_id, r.request_id, r.body, ")
                .Append(ResponseArchiveSql.Continues);
            Where(sql, filter, "p").Append("), ").Append(ResponseArchiveSql.ContinuedBy);
            Where(sql, filter, "n").Append(") FROM responses r WHERE r.seq > ").Append(sql.Parameter("$after", afterSeq));
            var command = Where(sql, filter, "r").OrderBy("r.seq", ascending: true, limit).Command(session);
            var batch = new List<ArchivedResponse>(limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                batch.Add(new ArchivedResponse(
                    reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), (byte[])reader.GetValue(7),
                    reader.GetInt64(8) != 0, reader.GetInt64(9) != 0));
            }
            return (IReadOnlyList<ArchivedResponse>)batch;
        }, cancellationToken);

    public Task<long> CountAsync(CompletionFilter filter, bool chainEnds, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var sql = Where(new SqliteSql().Append("SELECT count(*) FROM responses r WHERE 1 = 1"), filter, "r");
            if (chainEnds)
            {
                Where(sql.Append(" AND NOT ").Append(ResponseArchiveSql.ContinuedBy), filter, "n").Append(")");
            }
            return (long)sql.Command(session).ExecuteScalar()!;
        }, cancellationToken);

    public Task<IReadOnlyDictionary<long, IReadOnlyList<ArchivedItem>>> ReadItemsAsync(
        IReadOnlyCollection<long> own, IReadOnlyCollection<long> chains, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command(ResponseArchiveSql.Items(
                "seq IN (SELECT value FROM json_each($chains))", "i.seq IN (SELECT value FROM json_each($own))"));
            Bind(command, ("$chains", Seqs(chains)), ("$own", Seqs(own)));
            var items = new Dictionary<long, IReadOnlyList<ArchivedItem>>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var root = reader.GetInt64(0);
                if (!items.TryGetValue(root, out var list))
                {
                    items[root] = list = new List<ArchivedItem>();
                }
                ((List<ArchivedItem>)list).Add(new ArchivedItem(reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3) == "output",
                    new StoredItem(reader.GetString(4), (byte[])reader.GetValue(5))));
            }
            return (IReadOnlyDictionary<long, IReadOnlyList<ArchivedItem>>)items;
        }, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> FindAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        FindInAsync("responses", ids, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> FindDeletedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        FindInAsync("deleted_responses", ids, cancellationToken);

    private Task<IReadOnlyDictionary<string, long>> FindInAsync(string table, IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command($"SELECT id, project_id FROM {table} WHERE id IN (SELECT value FROM json_each($ids))");
            Bind(command, ("$ids", JsonSerializer.Serialize(ids, CairnJson.Default.IReadOnlyCollectionString)));
            var found = new Dictionary<string, long>(StringComparer.Ordinal);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                found[reader.GetString(0)] = reader.GetInt64(1);
            }
            return (IReadOnlyDictionary<string, long>)found;
        }, cancellationToken);

    private static string Seqs(IReadOnlyCollection<long> seqs) => "[" + string.Join(",", seqs.Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// <c>AND</c> conditions on the responses' table <paramref name="r"/> for every filter given: the project, the model
    /// clients sent, each metadata pair (from the stored map) and the <c>created_at</c> range. Parameters are bound
    /// once by name, so the same filter can be applied to several aliases of one query.
    /// </summary>
    private static SqliteSql Where(SqliteSql sql, CompletionFilter filter, string r)
    {
        if (filter.ProjectId is { } project)
        {
            sql.Append($" AND {r}.project_id = ").Append(sql.Parameter("$project", project));
        }
        if (filter.Model is { } model)
        {
            sql.Append($" AND {r}.model = ").Append(sql.Parameter("$model", model));
        }
        for (var i = 0; i < filter.Metadata.Count; i++)
        {
            sql.Append($" AND EXISTS (SELECT 1 FROM json_each({r}.metadata) WHERE key = ").Append(sql.Parameter(Key(i), filter.Metadata[i].Key))
                .Append(" AND value = ").Append(sql.Parameter(Value(i), filter.Metadata[i].Value)).Append(")");
        }
        if (filter.FromSeconds is { } from)
        {
            sql.Append($" AND {r}.created_at >= ").Append(sql.Parameter("$from", from));
        }
        if (filter.ToSeconds is { } to)
        {
            sql.Append($" AND {r}.created_at < ").Append(sql.Parameter("$to", to));
        }
        return sql;
    }
}
