using System.Globalization;
using System.Text;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Archive reads of a PostgreSQL store: each batch is one query for the completions and one for all their messages,
/// on a connection held only for that batch.
/// </summary>
internal sealed class PostgresCompletionArchive(PostgresDataSources dataSources) : ICompletionArchive
{
    public async Task<IReadOnlyList<ArchivedCompletion>> ReadBatchAsync(ArchiveQuery query, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        // With metadata pairs the best plan depends on the values, so those reads are planned per execution.
        var dataSource = query.Metadata.Count > 0 ? dataSources.Unprepared : dataSources.Prepared;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = new List<(long Seq, string Id, long Project, string Model, long Created, byte[] Body)>(limit);
        await using (var command = Command(connection, query, "c.seq, c.id, c.project_id, c.model, c.created, c.body", afterSeq, limit))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetInt64(0), Decode(reader.GetString(1)), reader.GetInt64(2), Decode(reader.GetString(3)), reader.GetInt64(4),
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

    public async Task<long> CountAsync(ArchiveQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Unprepared.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, query, "count(*)", afterSeq: null, limit: null);
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
    private static NpgsqlCommand Command(NpgsqlConnection connection, ArchiveQuery query, string columns, long? afterSeq, int? limit)
    {
        var command = new NpgsqlCommand { Connection = connection };
        string Parameter(object value)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
            return "$" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        var project = query.ProjectId is { } id ? Parameter(id) : null;
        var cursor = afterSeq is { } after ? Parameter(after) : null;
        var sql = new StringBuilder("SELECT ").Append(columns).Append(" FROM completions c");
        for (var i = 0; i < query.Metadata.Count; i++)
        {
            var m = "m" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(CultureInfo.InvariantCulture, $" JOIN completion_metadata {m} ON {m}.project_id = {project ?? "c.project_id"}")
               .Append(CultureInfo.InvariantCulture, $" AND {m}.key = {Parameter(PostgresText.Encode(query.Metadata[i].Key))}")
               .Append(CultureInfo.InvariantCulture, $" AND {m}.value = {Parameter(PostgresText.Encode(query.Metadata[i].Value))} AND {m}.seq = c.seq");
            if (cursor is not null)
            {
                // The planner does not carry a range across seq = seq, and the range is what lets it start mid-index.
                sql.Append(CultureInfo.InvariantCulture, $" AND {m}.seq > {cursor}");
            }
        }
        sql.Append(" WHERE true");
        if (project is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.project_id = {project}");
        }
        if (query.Model is { } model)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.model = {Parameter(PostgresText.Encode(model))}");
        }
        if (query.FromSeconds is { } from)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.created >= {Parameter(from)}");
        }
        if (query.ToSeconds is { } to)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.created < {Parameter(to)}");
        }
        if (cursor is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND c.seq > {cursor}");
        }
        if (limit is { } n)
        {
            sql.Append(CultureInfo.InvariantCulture, $" ORDER BY c.seq LIMIT {Parameter((long)n)}");
        }
        command.CommandText = sql.ToString();
        return command;
    }

    /// <summary>Undoes <see cref="PostgresText.Encode(string)"/>: U+0001 U+0002 was U+0000, U+0001 U+0001 was U+0001.</summary>
    private static string Decode(string text)
    {
        if (!text.Contains('\u0001', StringComparison.Ordinal))
        {
            return text;
        }
        var decoded = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\u0001' && i + 1 < text.Length)
            {
                decoded.Append(text[++i] == '\u0002' ? '\0' : '\u0001');
            }
            else
            {
                decoded.Append(text[i]);
            }
        }
        return decoded.ToString();
    }
}
