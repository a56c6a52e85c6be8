using Npgsql;
using NpgsqlTypes;
using static Cairn.Storage.Postgres.PostgresBinding;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Stored completions in PostgreSQL, shared by every Cairn pointed at the database: reads from the connection pools,
/// writes through group commit. A create or a delete is one statement, sent with the others of its group commit in
/// one round trip; an update first reads its row under a lock, because its new body is made from the old one.
/// </summary>
internal sealed class PostgresCompletionStore(PostgresDataSources dataSources, PostgresWriter writer) : ICompletionStore
{
    public Task AddAsync(StoredCompletion completion, CancellationToken cancellationToken)
    {
        var metadata = PostgresText.Encode(completion.Metadata);
        var (keys, values) = Pairs(metadata);
        var summary = CompletionSummary.Of(completion);
        // The dashboard's preview, search words (made here: PostgresSearch) and hourly rollup are written in the same
        // statement (see PostgresSchema).
        return writer.ExecuteAsync("""
            WITH c AS (
                INSERT INTO completions(id, project_id, model, created, metadata, body)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq),
            m AS (
                INSERT INTO completion_metadata(project_id, key, value, seq)
                SELECT $2, u.k, u.v, c.seq FROM c, unnest($7::text[], $8::text[]) AS u(k, v)),
            p AS (
                INSERT INTO completion_previews(seq, prompt, answer, prompt_tokens, completion_tokens, latency_ms, trace_id, search)
                SELECT c.seq, $10::text, $11::text, $12, $13, $16::bigint, $17::text, $14::tsvector FROM c),
            r AS (
                INSERT INTO completion_rollup(project_id, hour, model, requests, prompt_tokens, completion_tokens, first_seq, last_seq)
                SELECT $2, $15, $3, 1, $12, $13, c.seq, c.seq FROM c
                ON CONFLICT (project_id, hour, model) DO UPDATE SET
                    requests = completion_rollup.requests + 1,
                    prompt_tokens = completion_rollup.prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = completion_rollup.completion_tokens + excluded.completion_tokens,
                    first_seq = least(completion_rollup.first_seq, excluded.first_seq),
                    last_seq = greatest(completion_rollup.last_seq, excluded.last_seq))
            INSERT INTO completion_messages(seq, idx, body)
            SELECT c.seq, u.i - 1, u.b FROM c, unnest($9::bytea[]) WITH ORDINALITY AS u(b, i)
            """,
            PostgresText.Encode(completion.Id), completion.ProjectId, PostgresText.Encode(completion.Model), completion.Created,
            Json(MetadataJson.Write(metadata)), completion.Body, keys, values, completion.Messages,
            Text(summary.Prompt), Text(summary.Answer), summary.PromptTokens, summary.CompletionTokens,
            PostgresSearch.Vector(summary.PromptText, summary.AnswerText), CompletionSummary.Hour(completion.Created),
            Bigint(completion.LatencyMs), Text(completion.TraceId));
    }

    public async Task<byte[]?> GetAsync(long projectId, string id, CancellationToken cancellationToken)
    {
        await using var command = dataSources.Prepared.CreateCommand("SELECT body FROM completions WHERE id = $1 AND project_id = $2");
        Add(command, PostgresText.Encode(id), projectId);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<(StoredPage? Page, ListFailure Failure)> ListAsync(long projectId, CompletionQuery query, CancellationToken cancellationToken)
    {
        // A model filter's best walk depends on the model, so those lists are planned per execution (PostgresListQuery).
        var dataSource = query.Model is null ? dataSources.Prepared : dataSources.Unprepared;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // With several pairs and no model the rarest pair drives; null: a pair has no row past the cursor.
        var walk = query.Model is null && query.Metadata.Count > 1
            ? await PostgresListQuery.RarestFirstAsync(connection, projectId, query, cancellationToken)
            : query;
        var page = new StoredPage([], HasMore: false);
        if (walk is not null)
        {
            await using var command = PostgresListQuery.Command(connection, projectId, walk);
            page = await PostgresListQuery.ReadPageAsync(command, reader => reader.GetString(0), cancellationToken);
        }
        // The cursor is looked up inside the list's statement; only an empty page says whether it was there.
        if (page.Items.Count == 0 && query.After is { } after && !await PostgresListQuery.CursorExistsAsync(connection, projectId, after, cancellationToken))
        {
            return (null, ListFailure.UnknownCursor);
        }
        return (page, ListFailure.None);
    }

    public Task<byte[]?> UpdateMetadataAsync(
        long projectId, string id, IReadOnlyDictionary<string, string> newMetadata, Func<byte[], byte[]> rewrite, CancellationToken cancellationToken) =>
        writer.WriteAsync(async connection =>
        {
            var metadata = PostgresText.Encode(newMetadata);
            long seq;
            byte[] oldBody;
            Dictionary<string, string> oldMetadata;
            // FOR UPDATE: an update or delete from another instance waits for this one, so each rewrite starts
            // from the body the previous one committed.
            await using (var find = new NpgsqlCommand(
                "SELECT seq, body, metadata::text FROM completions WHERE id = $1 AND project_id = $2 FOR UPDATE", connection))
            {
                Add(find, PostgresText.Encode(id), projectId);
                await using var reader = await find.ExecuteReaderAsync();
                if (!await reader.ReadAsync())
                {
                    return null;
                }
                seq = reader.GetInt64(0);
                oldBody = reader.GetFieldValue<byte[]>(1);
                oldMetadata = MetadataJson.Parse(reader.GetString(2));
            }
            var body = rewrite(oldBody);
            // Only the pairs that change are touched, so a pair kept is never deleted and inserted in one statement.
            var (goneKeys, goneValues) = Pairs(oldMetadata.Where(p => !metadata.TryGetValue(p.Key, out var v) || v != p.Value));
            var (newKeys, newValues) = Pairs(metadata.Where(p => !oldMetadata.TryGetValue(p.Key, out var v) || v != p.Value));
            await using var update = new NpgsqlCommand("""
                WITH gone AS (
                    DELETE FROM completion_metadata
                    WHERE project_id = $1 AND seq = $2 AND (key, value) IN (SELECT * FROM unnest($3::text[], $4::text[]))),
                added AS (
                    INSERT INTO completion_metadata(project_id, key, value, seq)
                    SELECT $1, u.k, u.v, $2 FROM unnest($5::text[], $6::text[]) AS u(k, v))
                UPDATE completions SET metadata = $7, body = $8 WHERE seq = $2
                """, connection);
            Add(update, projectId, seq, goneKeys, goneValues, newKeys, newValues);
            update.Parameters.Add(Json(MetadataJson.Write(metadata)));
            Add(update, body);
            await update.ExecuteNonQueryAsync();
            return body;
        });

    public async Task<bool> DeleteAsync(long projectId, string id, CancellationToken cancellationToken) =>
        await writer.ExecuteAsync($"""
            WITH c AS (DELETE FROM completions WHERE id = $1 AND project_id = $2 RETURNING id, project_id, seq, metadata, model, created),
            {PostgresRetention.DeleteRowsOf}
            INSERT INTO deleted_completions(id, project_id, seq) SELECT id, project_id, seq FROM c
            """, PostgresText.Encode(id), projectId) == 1;

    public async Task<(StoredPage? Page, ListFailure Failure)> ListMessagesAsync(
        long projectId, string id, MessageQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await dataSources.Prepared.OpenConnectionAsync(cancellationToken);
        await using var find = new NpgsqlCommand("SELECT seq FROM completions WHERE id = $1 AND project_id = $2", connection);
        Add(find, PostgresText.Encode(id), projectId);
        if (await find.ExecuteScalarAsync(cancellationToken) is not long seq)
        {
            return (null, ListFailure.NotFound);
        }
        var order = query.Ascending ? "ASC" : "DESC";
        var compare = query.Ascending ? ">" : "<";
        await using var command = new NpgsqlCommand(PostgresListQuery.WithinBudget(query.AfterIndex is null
            ? $"SELECT idx AS id, idx AS seq, body, octet_length(body) AS size FROM completion_messages WHERE seq = $1 ORDER BY idx {order} LIMIT $2"
            : $"SELECT idx AS id, idx AS seq, body, octet_length(body) AS size FROM completion_messages WHERE seq = $1 AND idx {compare} $5 ORDER BY idx {order} LIMIT $2",
            order, "$3", "$4"), connection);
        Add(command, seq, (long)query.Limit + 1, (long)query.Limit, query.MaxBytes);
        if (query.AfterIndex is { } afterIndex)
        {
            Add(command, afterIndex);
        }
        return (await PostgresListQuery.ReadPageAsync(command, reader => $"{id}-{reader.GetInt32(0)}", cancellationToken), ListFailure.None);
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSources.Prepared.CreateCommand("SELECT max(version) FROM cairn_schema");
        return await command.ExecuteScalarAsync(cancellationToken) is int version && version == PostgresSchema.Version;
    }

    private static (string[] Keys, string[] Values) Pairs(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var list = pairs.ToList();
        return ([.. list.Select(p => p.Key)], [.. list.Select(p => p.Value)]);
    }

    private static NpgsqlParameter Json(string json) => new() { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb };
}
