using System.Text.Json;
using Cairn.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Projects and keys in PostgreSQL, shared by every instance. Writes are rare (an admin creating or revoking a key)
/// and go straight to the database, each its own statement; lookups are one indexed query.
/// </summary>
internal sealed class PostgresAccessStore(PostgresDataSources dataSources, TimeProvider clock) : IAccessStore
{
    private const string ProjectColumns = "id, name, created, requests_per_minute, tokens_per_minute";

    private NpgsqlDataSource Source => dataSources.Prepared;

    public async Task<Project> EnsureProjectAsync(string name, CancellationToken cancellationToken)
    {
        await using (var insert = Source.CreateCommand("""
            INSERT INTO projects(public_id, name, created) VALUES ('proj_' || md5(random()::text || clock_timestamp()::text), $1, $2)
            ON CONFLICT (name) DO NOTHING
            """))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = name });
            insert.Parameters.Add(new NpgsqlParameter { Value = clock.GetUtcNow().ToUnixTimeSeconds() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        return (await FindProjectAsync(name, cancellationToken))!;
    }

    public async Task<Project?> FindProjectAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand($"SELECT {ProjectColumns} FROM projects WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadProject(reader, 0) : null;
    }

    public async Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand($"SELECT {ProjectColumns} FROM projects ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var projects = new List<Project>();
        while (await reader.ReadAsync(cancellationToken))
        {
            projects.Add(ReadProject(reader, 0));
        }
        return projects;
    }

    public async Task<Project?> SetLimitsAsync(string name, long? requestsPerMinute, long? tokensPerMinute, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand($"""
            UPDATE projects SET requests_per_minute = $1, tokens_per_minute = $2 WHERE name = $3 RETURNING {ProjectColumns}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)requestsPerMinute ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)tokensPerMinute ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadProject(reader, 0) : null;
    }

    public async Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand("""
            INSERT INTO api_keys(id, project_id, name, redacted, hash, models, created, revoked)
            VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = key.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = key.ProjectId });
        command.Parameters.Add(new NpgsqlParameter { Value = key.Name });
        command.Parameters.Add(new NpgsqlParameter { Value = key.Redacted });
        command.Parameters.Add(new NpgsqlParameter { Value = key.Hash });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = key.Models is null ? DBNull.Value : JsonSerializer.Serialize(key.Models, Cairn.OpenAI.CairnJson.Default.IReadOnlyListString),
            NpgsqlDbType = NpgsqlDbType.Jsonb,
        });
        command.Parameters.Add(new NpgsqlParameter { Value = key.Created });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(long? projectId, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand(projectId is null
            ? "SELECT id, project_id, name, redacted, hash, models::text, created, revoked FROM api_keys ORDER BY created, id"
            : "SELECT id, project_id, name, redacted, hash, models::text, created, revoked FROM api_keys WHERE project_id = $1 ORDER BY created, id");
        if (projectId is { } id)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = id });
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ApiKeyRecord(
                reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4),
                Models(reader, 5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7)));
        }
        return keys;
    }

    public async Task<bool> RevokeKeyAsync(string keyId, long revoked, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand("UPDATE api_keys SET revoked = $1 WHERE id = $2 AND revoked IS NULL");
        command.Parameters.Add(new NpgsqlParameter { Value = revoked });
        command.Parameters.Add(new NpgsqlParameter { Value = keyId });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<KeyGrant?> FindKeyAsync(byte[] hash, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand("""
            SELECT p.id, p.name, p.created, p.requests_per_minute, p.tokens_per_minute, k.id, k.hash, k.models::text
            FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE k.hash = $1 AND k.revoked IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = hash });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new KeyGrant(reader.GetString(5), (byte[])reader.GetValue(6), ReadProject(reader, 0), Models(reader, 7));
    }

    public async Task<bool> AnyKeysAsync(CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand("SELECT EXISTS(SELECT 1 FROM api_keys)");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static Project ReadProject(NpgsqlDataReader reader, int at) =>
        new(reader.GetInt64(at), reader.GetString(at + 1), reader.GetInt64(at + 2),
            reader.IsDBNull(at + 3) ? null : reader.GetInt64(at + 3), reader.IsDBNull(at + 4) ? null : reader.GetInt64(at + 4));

    private static IReadOnlyList<string>? Models(NpgsqlDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : JsonSerializer.Deserialize(reader.GetString(column), Cairn.OpenAI.CairnJson.Default.IReadOnlyListString);
}
