using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Archive reads of a PostgreSQL store: each batch is one query for the completions and one for all their messages,
/// on a connection held only for that batch.
/// </summary>
internal sealed class PostgresCompletionArchive(PostgresDataSources dataSources) : ICompletionArchive
{
    public async Task<IReadOnlyList<ArchivedCompletion>> ReadBatchAsync(CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        // With metadata pairs the best plan depends on the values, so those reads are planned per execution.
        var dataSource = filter.Metadata.Count > 0 ? dataSources.Unprepared : dataSources.Prepared;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = new List<(long Seq, string Id, long Project, string Model, long Created, byte[] Body)>(limit);
        await using (var command = Command(connection, filter, "c.seq, c.id, c.project_id, c.model, c.created, c.body", afterSeq, limit))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetInt64(0), PostgresText.Decode(reader.GetString(1)), reader.GetInt64(2), PostgresText.Decode(reader.GetString(3)), reader.GetInt64(4),
                    reader.GetFieldValue<byte[]>(5)));
            }
        }
        var messages = rows.ToDictionary(r => r.Seq, _ => new List<byte[]>());
        if (rows.Count > 0)
        {
            await using var command = new NpgsqlCommand("SELECT seq, body FROM completion_messages WHERE seq = ANY($1) ORDER BY seq, idx", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Seq).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                messages[reader.GetInt64(0)].Add(reader.GetFieldValue<byte[]>(1));
            }
        }
        return [.. rows.Select(r => new ArchivedCompletion(r.Seq, r.Id, r.Project, r.Model, r.Created, r.Body, [.. messages[r.Seq]]))];
    }

    public async Task<long> CountAsync(CompletionFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Unprepared.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, filter, "count(*)", afterSeq: null, limit: null);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlySet<string>> TakenIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var byEncoded = ids.Distinct(StringComparer.Ordinal).ToDictionary(PostgresText.Encode, id => id, StringComparer.Ordinal);
        await using var command = dataSources.Prepared.CreateCommand("""
            SELECT id FROM completions WHERE id = ANY($1) UNION SELECT id FROM deleted_completions WHERE id = ANY($1)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = byEncoded.Keys.ToArray() });
        var taken = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            taken.Add(byEncoded[reader.GetString(0)]);
        }
        return taken;
    }

    /// <summary>
    /// The query for a shape of filters: each metadata pair is a join on its index by (project, key, value, seq), so
    /// with a project the planner can walk the rarest pair's range in seq order; the keyset cursor makes each batch
    /// start where the last one ended.
    /// </summary>
    private static NpgsqlCommand Command(NpgsqlConnection connection, CompletionFilter filter, string columns, long? afterSeq, int? limit)
    {
        var sql = new PostgresSql(connection);
        var project = filter.ProjectId is { } id ? sql.Parameter(id) : null;
        var cursor = afterSeq is { } after ? sql.Parameter(after) : null;
        sql.Append("SELECT ").Append(columns).Append(" FROM completions c")
           .JoinPairs(filter, project, cursor is null ? null : "> " + cursor)
           .Append(" WHERE true").Where(filter, project);
        if (cursor is not null)
        {
            sql.Append(" AND c.seq > " + cursor);
        }
        if (limit is { } n)
        {
            sql.Append(" ORDER BY c.seq LIMIT " + sql.Parameter((long)n));
        }
        return sql.Finish();
    }
}
