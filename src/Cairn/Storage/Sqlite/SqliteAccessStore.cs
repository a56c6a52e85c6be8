using System.Runtime.InteropServices;
using System.Text.Json;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>Projects and keys in the SQLite file: writes through the group-commit writer, reads from the pool.</summary>
internal sealed class SqliteAccessStore(SqliteWriter writer, SqliteReaders readers, TimeProvider clock) : IAccessStore
{
    private const string ProjectColumns = "id, name, created, requests_per_minute, tokens_per_minute";

    public Task<Project> EnsureProjectAsync(string name, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            var insert = w.Command($"""
                INSERT INTO projects(public_id, name, created) VALUES ('proj_' || lower(hex(randomblob(12))), $name, $created)
                ON CONFLICT(name) DO NOTHING
                """);
            List<(string Name, object Value)> insertValues = [];
            insertValues.Add(("$name", name));
            insertValues.Add(("$created", clock.GetUtcNow().ToUnixTimeSeconds()));
            SqliteBinding.Bind(insert, CollectionsMarshal.AsSpan(insertValues));
            insert.ExecuteNonQuery();
            return FindProject(w.Command($"SELECT {ProjectColumns} FROM projects WHERE name = $name"), name)!;
        });

    public Task<Project?> FindProjectAsync(string name, CancellationToken cancellationToken) =>
        readers.ReadAsync(session => FindProject(session.Command($"SELECT {ProjectColumns} FROM projects WHERE name = $name"), name), cancellationToken);

    public Task<IReadOnlyList<Project>> ListProjectsAsync(CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command($"SELECT {ProjectColumns} FROM projects ORDER BY id");
            var projects = new List<Project>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                projects.Add(ReadProject(reader));
            }
            return (IReadOnlyList<Project>)projects;
        }, cancellationToken);

    public Task<Project?> SetLimitsAsync(string name, long? requestsPerMinute, long? tokensPerMinute, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            var update = w.Command("UPDATE projects SET requests_per_minute = $rpm, tokens_per_minute = $tpm WHERE name = $name");
            List<(string Name, object Value)> updateValues = [];
            updateValues.Add(("$rpm", (object?)requestsPerMinute ?? DBNull.Value));
            updateValues.Add(("$tpm", (object?)tokensPerMinute ?? DBNull.Value));
            updateValues.Add(("$name", name));
            SqliteBinding.Bind(update, CollectionsMarshal.AsSpan(updateValues));
            return update.ExecuteNonQuery() == 0 ? null : FindProject(w.Command($"SELECT {ProjectColumns} FROM projects WHERE name = $name"), name);
        });

    public Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            var insert = w.Command("""
                INSERT INTO api_keys(id, project_id, name, redacted, hash, models, created, revoked)
                VALUES ($id, $project, $name, $redacted, $hash, $models, $created, NULL)
                """);
            List<(string Name, object Value)> insertValues = [];
            insertValues.Add(("$id", key.Id));
            insertValues.Add(("$project", key.ProjectId));
            insertValues.Add(("$name", key.Name));
            insertValues.Add(("$redacted", key.Redacted));
            insertValues.Add(("$hash", key.Hash));
            insertValues.Add(("$models", key.Models is null ? DBNull.Value : JsonSerializer.Serialize(key.Models, Cairn.OpenAI.CairnJson.Default.IReadOnlyListString)));
            insertValues.Add(("$created", key.Created));
            SqliteBinding.Bind(insert, CollectionsMarshal.AsSpan(insertValues));
            return insert.ExecuteNonQuery();
        });

    public Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(long? projectId, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command(projectId is null
                ? "SELECT id, project_id, name, redacted, hash, models, created, revoked FROM api_keys ORDER BY created, id"
                : "SELECT id, project_id, name, redacted, hash, models, created, revoked FROM api_keys WHERE project_id = $project ORDER BY created, id");
            List<(string Name, object Value)> commandValues = [];
            if (projectId is { } id)
            {
                commandValues.Add(("$project", id));
            }
            var keys = new List<ApiKeyRecord>();
            SqliteBinding.Bind(command, CollectionsMarshal.AsSpan(commandValues));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                keys.Add(new ApiKeyRecord(
                    reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4),
                    Models(reader, 5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7)));
            }
            return (IReadOnlyList<ApiKeyRecord>)keys;
        }, cancellationToken);

    public Task<bool> RevokeKeyAsync(string keyId, long revoked, CancellationToken cancellationToken) =>
        writer.WriteAsync(w =>
        {
            var update = w.Command("UPDATE api_keys SET revoked = $revoked WHERE id = $id AND revoked IS NULL");
            List<(string Name, object Value)> updateValues = [];
            updateValues.Add(("$revoked", revoked));
            updateValues.Add(("$id", keyId));
            SqliteBinding.Bind(update, CollectionsMarshal.AsSpan(updateValues));
            return update.ExecuteNonQuery() == 1;
        });

    public Task<KeyGrant?> FindKeyAsync(byte[] hash, CancellationToken cancellationToken) =>
        readers.ReadAsync(session =>
        {
            var command = session.Command("""
                SELECT k.id, k.hash, k.models, p.id, p.name, p.created, p.requests_per_minute, p.tokens_per_minute
                FROM api_keys k JOIN projects p ON p.id = k.project_id
                WHERE k.hash = $hash AND k.revoked IS NULL
                """);
            List<(string Name, object Value)> commandValues = [];
            commandValues.Add(("$hash", hash));
            SqliteBinding.Bind(command, CollectionsMarshal.AsSpan(commandValues));
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }
            var project = new Project(reader.GetInt64(3), reader.GetString(4), reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7));
            return new KeyGrant(reader.GetString(0), (byte[])reader.GetValue(1), project, Models(reader, 2));
        }, cancellationToken);

    public Task<bool> AnyKeysAsync(CancellationToken cancellationToken) =>
        readers.ReadAsync(session => session.Command("SELECT EXISTS(SELECT 1 FROM api_keys)").ExecuteScalar() is long found && found == 1, cancellationToken);

    private static Project? FindProject(SqliteCommand command, string name)
    {
        List<(string Name, object Value)> commandValues = [];
        commandValues.Add(("$name", name));
        SqliteBinding.Bind(command, CollectionsMarshal.AsSpan(commandValues));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadProject(reader) : null;
    }

    private static Project ReadProject(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4));

    private static IReadOnlyList<string>? Models(SqliteDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : JsonSerializer.Deserialize(reader.GetString(column), Cairn.OpenAI.CairnJson.Default.IReadOnlyListString);

}
