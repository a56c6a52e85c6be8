using Cairn.Storage;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Access;

/// <summary>What the admin API and the <c>cairn keys</c>/<c>cairn projects</c> commands do, with their checks.</summary>
internal sealed class AccessService(IAccessStore store, TimeProvider clock)
{
    public const int MaxModels = 64;

    /// <summary>Creates a key in a project (made if missing). The secret is returned once and never stored.</summary>
    public async Task<(ApiKeyRecord Key, string Secret, Project Project)> CreateKeyAsync(
        string projectName, string? name, IReadOnlyList<string>? models, CancellationToken cancellationToken)
    {
        CheckProjectName(projectName, "project");
        if (name is { Length: > 128 } || name?.Any(char.IsControl) == true)
        {
            throw OpenAIException.InvalidRequest("name", "Invalid 'name': at most 128 characters, none of them control characters.", "invalid_value");
        }
        if (models is not null && (models.Count > MaxModels || models.Any(m => string.IsNullOrWhiteSpace(m) || m.Any(char.IsControl))))
        {
            throw OpenAIException.InvalidRequest("models", $"Invalid 'models': give 1 to {MaxModels} non-empty model names, or none for every model.", "invalid_value");
        }
        var project = await store.EnsureProjectAsync(projectName, cancellationToken);
        var secret = ApiKeys.NewSecret();
        var key = new ApiKeyRecord(ApiKeys.NewId(), project.Id, name ?? "", ApiKeys.Redact(secret), ApiKeys.Hash(secret),
            models is { Count: > 0 } ? [.. models.Distinct(StringComparer.Ordinal)] : null, clock.GetUtcNow().ToUnixTimeSeconds(), null);
        await store.AddKeyAsync(key, cancellationToken);
        return (key, secret, project);
    }

    public async Task<Project> SetProjectAsync(string name, long? requestsPerMinute, long? tokensPerMinute, CancellationToken cancellationToken)
    {
        CheckProjectName(name, "name");
        CheckLimit(requestsPerMinute, "requests_per_minute");
        CheckLimit(tokensPerMinute, "tokens_per_minute");
        await store.EnsureProjectAsync(name, cancellationToken);
        return (await store.SetLimitsAsync(name, requestsPerMinute, tokensPerMinute, cancellationToken))!;
    }

    public Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken) =>
        store.RevokeKeyAsync(keyId, clock.GetUtcNow().ToUnixTimeSeconds(), cancellationToken);

    internal static void CheckProjectName(string name, string param)
    {
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw OpenAIException.InvalidRequest(param, $"Invalid '{param}': a project name is 1 to 64 letters, digits, '-', '_' or '.'.", "invalid_value");
        }
    }

    private static void CheckLimit(long? value, string param)
    {
        if (value is < 1 or > 1_000_000_000)
        {
            throw OpenAIException.InvalidRequest(param, $"Invalid '{param}': a whole number from 1 to 1000000000, or null for no limit.", "invalid_value");
        }
    }

    public static void WriteProject(Utf8JsonWriter writer, Project project)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "project"u8);
        writer.WriteString("name"u8, project.Name);
        writer.WriteNumber("created_at"u8, project.Created);
        WriteLimit(writer, "requests_per_minute"u8, project.RequestsPerMinute);
        WriteLimit(writer, "tokens_per_minute"u8, project.TokensPerMinute);
        writer.WriteEndObject();
    }

    public static void WriteKey(Utf8JsonWriter writer, ApiKeyRecord key, string projectName, string? secret = null)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "api_key"u8);
        writer.WriteString("id"u8, key.Id);
        writer.WriteString("name"u8, key.Name);
        writer.WriteString("project"u8, projectName);
        writer.WriteString("redacted_value"u8, key.Redacted);
        if (secret is not null)
        {
            writer.WriteString("value"u8, secret);
        }
        writer.WritePropertyName("models"u8);
        if (key.Models is { } models)
        {
            writer.WriteStartArray();
            foreach (var model in models)
            {
                writer.WriteStringValue(model);
            }
            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNullValue();
        }
        writer.WriteNumber("created_at"u8, key.Created);
        WriteLimit(writer, "revoked_at"u8, key.Revoked);
        writer.WriteEndObject();
    }

    private static void WriteLimit(Utf8JsonWriter writer, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
