using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Archive reads of stored responses: a batch is one query on a connection held only for it, walking the responses in
/// storage order (there is no index on their project, model or metadata: every filter is checked per row).
/// </summary>
internal sealed partial class PostgresResponseStore : IResponseArchive
{
    public async Task<IReadOnlyList<ArchivedResponse>> ReadBatchAsync(CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        var sql = new PostgresSql(connection);
        var where = Conditions(sql, filter);
        var after = sql.Parameter(afterSeq);
        await using var command = sql.Append($"""
            SELECT r.seq, r.id, r.project_id, r.model, r.created_at, r.previous_response_id, r.request_id, r.body,
                {ResponseArchiveSql.Continues}{where("p")}), {ResponseArchiveSql.ContinuedBy}{where("n")})
            FROM responses r WHERE r.seq > {after}{where("r")} ORDER BY r.seq LIMIT {sql.Parameter((long)limit)}
            """).Finish();
        var batch = new List<ArchivedResponse>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            batch.Add(new ArchivedResponse(
                reader.GetInt64(0), PostgresText.Decode(reader.GetString(1)), reader.GetInt64(2), PostgresText.Decode(reader.GetString(3)), reader.GetInt64(4),
                await reader.IsDBNullAsync(5, cancellationToken) ? null : PostgresText.Decode(reader.GetString(5)),
                await reader.IsDBNullAsync(6, cancellationToken) ? null : reader.GetString(6),
                reader.GetFieldValue<byte[]>(7), reader.GetBoolean(8), reader.GetBoolean(9)));
        }
        return batch;
    }

    public async Task<long> CountAsync(CompletionFilter filter, bool chainEnds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Unprepared.OpenConnectionAsync(cancellationToken);
        var sql = new PostgresSql(connection);
        var where = Conditions(sql, filter);
        var ends = chainEnds ? $" AND NOT {ResponseArchiveSql.ContinuedBy}{where("n")})" : "";
        await using var command = sql.Append($"SELECT count(*) FROM responses r WHERE true{where("r")}{ends}").Finish();
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyDictionary<long, IReadOnlyList<ArchivedItem>>> ReadItemsAsync(
        IReadOnlyCollection<long> own, IReadOnlyCollection<long> chains, CancellationToken cancellationToken)
    {
        await using var command = dataSources.Prepared.CreateCommand(ResponseArchiveSql.Items("seq = ANY($1)", "i.seq = ANY($2)"));
        PostgresBinding.Add(command, chains.ToArray(), own.ToArray());
        var items = new Dictionary<long, IReadOnlyList<ArchivedItem>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var root = reader.GetInt64(0);
            if (!items.TryGetValue(root, out var list))
            {
                items[root] = list = new List<ArchivedItem>();
            }
            ((List<ArchivedItem>)list).Add(new ArchivedItem(reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3) == "output",
                new StoredItem(PostgresText.Decode(reader.GetString(4)), reader.GetFieldValue<byte[]>(5))));
        }
        return items;
    }

    public Task<IReadOnlyDictionary<string, long>> FindAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        FindInAsync("responses", ids, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> FindDeletedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        FindInAsync("deleted_responses", ids, cancellationToken);

    private async Task<IReadOnlyDictionary<string, long>> FindInAsync(string table, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var byEncoded = ids.Distinct(StringComparer.Ordinal).ToDictionary(PostgresText.Encode, id => id, StringComparer.Ordinal);
        await using var command = dataSources.Prepared.CreateCommand($"SELECT id, project_id FROM {table} WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = byEncoded.Keys.ToArray() });
        var found = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[byEncoded[reader.GetString(0)]] = reader.GetInt64(1);
        }
        return found;
    }

    /// <summary>
    /// Binds the filter's values once and gives the <c>AND</c> conditions on any alias <c>r</c> of the responses' table:
    /// the project, the model clients sent, each metadata pair (from the stored map) and the <c>created_at</c> range.
    /// Text is escaped as it is stored (<see cref="PostgresText"/>).
    /// </summary>
    private static Func<string, string> Conditions(PostgresSql sql, CompletionFilter filter)
    {
        var project = filter.ProjectId is { } id ? sql.Parameter(id) : null;
        var model = filter.Model is { } name ? sql.Parameter(PostgresText.Encode(name)) : null;
        var pairs = filter.Metadata.Select(p => (Key: sql.Parameter(PostgresText.Encode(p.Key)), Value: sql.Parameter(PostgresText.Encode(p.Value)))).ToList();
        var from = filter.FromSeconds is { } f ? sql.Parameter(f) : null;
        var to = filter.ToSeconds is { } t ? sql.Parameter(t) : null;
        return r => string.Concat(
            project is null ? "" : $" AND {r}.project_id = {project}",
            model is null ? "" : $" AND {r}.model = {model}",
            string.Concat(pairs.Select(p => $" AND {r}.metadata ->> {p.Key}::text = {p.Value}::text")),
            from is null ? "" : $" AND {r}.created_at >= {from}",
            to is null ? "" : $" AND {r}.created_at < {to}");
    }
}
