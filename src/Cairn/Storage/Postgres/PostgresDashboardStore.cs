using System.Globalization;
using System.Text;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// The dashboard's reads on PostgreSQL. Lists are planned for their own values (the unprepared pool), as the API's
/// lists with a model filter are: whether to start from the search index, a metadata pair or storage order depends
/// on how rare each is.
/// </summary>
internal sealed class PostgresDashboardStore(PostgresDataSources dataSources) : IDashboardStore
{
    public async Task<CompletionRows> ListAsync(DashboardFilter filter, PageCursor cursor, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Unprepared.OpenConnectionAsync(cancellationToken);
        SeqRange? range = null;
        if (filter.From is not null || filter.To is not null)
        {
            range = await RangeAsync(connection, filter, cancellationToken);
            if (range is null)
            {
                return new CompletionRows([], false, cursor.Before is not null);
            }
        }
        await using var command = ListCommand(connection, filter, cursor, range, limit);
        var rows = new List<CompletionRow>(limit + 1);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var metadata = MetadataJson.Parse(reader.GetString(5)).ToDictionary(p => PostgresText.Decode(p.Key), p => PostgresText.Decode(p.Value), StringComparer.Ordinal);
                rows.Add(new CompletionRow(reader.GetInt64(0), PostgresText.Decode(reader.GetString(1)), reader.GetInt64(2), PostgresText.Decode(reader.GetString(3)),
                    reader.GetInt64(4), metadata, reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.GetInt64(8), reader.GetInt64(9)));
            }
        }
        return DashboardPages.Page(rows, cursor, limit);
    }

    private static async Task<SeqRange?> RangeAsync(NpgsqlConnection connection, DashboardFilter filter, CancellationToken cancellationToken)
    {
        var (firstHour, lastHour) = SeqRange.Hours(filter.From, filter.To);
        var sql = new StringBuilder("SELECT min(first_seq), max(last_seq) FROM completion_rollup WHERE hour BETWEEN $1 AND $2");
        await using var command = new NpgsqlCommand { Connection = connection };
        PostgresBinding.Add(command, firstHour, lastHour);
        if (filter.ProjectId is { } project)
        {
            PostgresBinding.Add(command, project);
            sql.Append(CultureInfo.InvariantCulture, $" AND project_id = ${command.Parameters.Count}");
        }
        if (filter.Model is { } model)
        {
            PostgresBinding.Add(command, PostgresText.Encode(model));
            sql.Append(CultureInfo.InvariantCulture, $" AND model = ${command.Parameters.Count}");
        }
        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? new SeqRange(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    private static NpgsqlCommand ListCommand(NpgsqlConnection connection, DashboardFilter filter, PageCursor cursor, SeqRange? range, int limit)
    {
        var sql = new PostgresSql(connection);
        var project = filter.ProjectId is { } id ? sql.Parameter(id) : null;
        sql.Append("SELECT c.seq, c.id, c.project_id, c.model, c.created, c.metadata::text, p.prompt, p.answer, ")
           .Append("coalesce(p.prompt_tokens, 0), coalesce(p.completion_tokens, 0) FROM completions c LEFT JOIN completion_previews p ON p.seq = c.seq");
        // The metadata index starts with the project: across every project (the admin's view) the first pair's rows
        // are found project by project and the planner chooses how to meet storage order.
        var first = project is null ? 1 : 0;
        sql.JoinPairs(filter, project, seqBound: null, first).Append(" WHERE true");
        if (first == 1 && filter.Metadata.Count > 0)
        {
            sql.Append(" AND c.seq IN (SELECT m.seq FROM projects x JOIN completion_metadata m ON m.project_id = x.id")
               .Append($" AND m.key = {sql.Parameter(PostgresText.Encode(filter.Metadata[0].Key))}")
               .Append($" AND m.value = {sql.Parameter(PostgresText.Encode(filter.Metadata[0].Value))})");
        }
        sql.Where(filter, project);
        if (filter.Words.Count > 0)
        {
            // Each word as the start of a stored word: 'cat':* & 'sat':*.
            sql.Append($" AND p.search @@ {sql.Parameter(PostgresSearch.Query(filter.Words))}::tsquery");
        }
        if (range is { } r)
        {
            sql.Append($" AND c.seq BETWEEN {sql.Parameter(r.First)} AND {sql.Parameter(r.Last)}");
        }
        if (cursor.Before is { } before)
        {
            sql.Append($" AND c.seq < {sql.Parameter(before)}");
        }
        else if (cursor.After is { } after)
        {
            sql.Append($" AND c.seq > {sql.Parameter(after)}");
        }
        return sql.OrderBy("c.seq", ascending: cursor.After is not null, limit).Finish();
    }

    public async Task<long?> CursorAsync(long? projectId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        await using var find = new NpgsqlCommand(projectId is null
            ? "SELECT seq FROM completions WHERE id = $1 UNION ALL SELECT seq FROM deleted_completions WHERE id = $1 LIMIT 1"
            : "SELECT seq FROM completions WHERE id = $1 AND project_id = $2 UNION ALL SELECT seq FROM deleted_completions WHERE id = $1 AND project_id = $2 LIMIT 1",
            connection);
        PostgresBinding.Add(find, PostgresText.Encode(id));
        if (projectId is { } project)
        {
            PostgresBinding.Add(find, project);
        }
        return await find.ExecuteScalarAsync(cancellationToken) as long?;
    }

    public async Task<CompletionDetail?> GetAsync(long? projectId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        await using var find = new NpgsqlCommand(projectId is null
            ? "SELECT c.seq, c.project_id, c.body, p.latency_ms, p.trace_id FROM completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE c.id = $1"
            : "SELECT c.seq, c.project_id, c.body, p.latency_ms, p.trace_id FROM completions c LEFT JOIN completion_previews p ON p.seq = c.seq WHERE c.id = $1 AND c.project_id = $2", connection);
        PostgresBinding.Add(find, PostgresText.Encode(id));
        if (projectId is { } project)
        {
            PostgresBinding.Add(find, project);
        }
        long seq, owner;
        byte[] body;
        long? latency;
        string? trace;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            (seq, owner, body, latency) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.IsDBNull(3) ? null : reader.GetInt64(3));
            trace = reader.IsDBNull(4) ? null : reader.GetString(4);
        }
        await using var messages = new NpgsqlCommand("SELECT body FROM completion_messages WHERE seq = $1 ORDER BY idx LIMIT $2", connection);
        PostgresBinding.Add(messages, seq, (long)IDashboardStore.MaxMessages);
        var items = new List<byte[]>();
        await using (var reader = await messages.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(reader.GetFieldValue<byte[]>(0));
            }
        }
        return new CompletionDetail(owner, id, body, items, latency, trace);
    }

    public async Task<IReadOnlyList<UsagePoint>> UsageAsync(long? projectId, long from, long to, CancellationToken cancellationToken)
    {
        await using var usage = dataSources.Prepared.CreateCommand(projectId is null
            ? "SELECT hour, model, sum(requests)::bigint, sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint FROM completion_rollup WHERE hour >= $1 AND hour < $2 GROUP BY hour, model ORDER BY hour, model"
            : "SELECT hour, model, requests, prompt_tokens, completion_tokens FROM completion_rollup WHERE hour >= $1 AND hour < $2 AND project_id = $3 ORDER BY hour, model");
        PostgresBinding.Add(usage, from, to);
        if (projectId is { } project)
        {
            PostgresBinding.Add(usage, project);
        }
        var points = new List<UsagePoint>();
        await using var reader = await usage.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            points.Add(new UsagePoint(reader.GetInt64(0), PostgresText.Decode(reader.GetString(1)), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }
        return points;
    }

    public async Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken)
    {
        await using var models = dataSources.Prepared.CreateCommand(projectId is null
            ? "SELECT DISTINCT model FROM completion_rollup WHERE requests > 0 ORDER BY model"
            : "SELECT DISTINCT model FROM completion_rollup WHERE project_id = $1 AND requests > 0 ORDER BY model");
        if (projectId is { } project)
        {
            PostgresBinding.Add(models, project);
        }
        var names = new List<string>();
        await using var reader = await models.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(PostgresText.Decode(reader.GetString(0)));
        }
        return names;
    }
}
