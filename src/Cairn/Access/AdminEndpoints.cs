using System.Text.Json;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Access;

/// <summary>
/// <c>/admin</c>: projects and API keys, for the admin key only (see <see cref="AuthMiddleware"/>). A key's secret is
/// in the response that creates it and nowhere else, ever.
/// </summary>
internal static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/projects", async (HttpContext context, IAccessStore store) =>
        {
            var projects = await store.ListProjectsAsync(context.RequestAborted);
            await JsonResponse.WriteAsync(context.Response, projects, static (writer, projects) =>
                WriteList(writer, projects, AccessService.WriteProject));
        });

        app.MapPost("/admin/projects", async (HttpContext context, ApiOptions options, IAccessStore store, AccessService access) =>
        {
            using var document = await ParseAsync(context, options);
            var body = JsonCheck.RequireBodyObject(document.RootElement);
            JsonCheck.OnlyKnown(body, "", "name", "requests_per_minute", "tokens_per_minute");
            var name = JsonCheck.RequireString(body, "name", "");
            // Checked before the look-up: a name the store cannot hold (U+0000 in PostgreSQL) must not reach it.
            AccessService.CheckProjectName(name, "name");
            var existing = await store.FindProjectAsync(name, context.RequestAborted);
            // A limit left out keeps its value; null removes it.
            var rpm = body.TryGetProperty("requests_per_minute", out _)
                ? JsonCheck.OptionalInteger(body, "requests_per_minute", "", 1, 1_000_000_000) : existing?.RequestsPerMinute;
            var tpm = body.TryGetProperty("tokens_per_minute", out _)
                ? JsonCheck.OptionalInteger(body, "tokens_per_minute", "", 1, 1_000_000_000) : existing?.TokensPerMinute;
            var project = await access.SetProjectAsync(name, rpm, tpm, CancellationToken.None);
            await JsonResponse.WriteAsync(context.Response, project, AccessService.WriteProject,
                existing is null ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        });

        app.MapGet("/admin/keys", async (HttpContext context, IAccessStore store) =>
        {
            var projects = (await store.ListProjectsAsync(context.RequestAborted)).ToDictionary(p => p.Id);
            long? projectId = null;
            if (context.Request.Query["project"].ToString() is { Length: > 0 } name)
            {
                projectId = projects.Values.FirstOrDefault(p => p.Name == name)?.Id
                    ?? throw new OpenAIException(new OpenAIError(StatusCodes.Status404NotFound, $"Project '{name}' not found.", OpenAIError.InvalidRequestType, "project", "not_found"));
            }
            var keys = await store.ListKeysAsync(projectId, context.RequestAborted);
            await JsonResponse.WriteAsync(context.Response, (keys, projects), static (writer, s) =>
                WriteList(writer, s.keys, (w, key) => AccessService.WriteKey(w, key, s.projects[key.ProjectId].Name)));
        });

        app.MapPost("/admin/keys", async (HttpContext context, ApiOptions options, AccessService access, Authenticator authenticator) =>
        {
            using var document = await ParseAsync(context, options);
            var body = JsonCheck.RequireBodyObject(document.RootElement);
            JsonCheck.OnlyKnown(body, "", "project", "name", "models");
            var project = JsonCheck.RequireString(body, "project", "");
            var name = JsonCheck.OptionalString(body, "name", "");
            List<string>? models = null;
            if (JsonCheck.OptionalArray(body, "models", "", 1, AccessService.MaxModels) is { } array)
            {
                models = [.. array.EnumerateArray().Select((m, i) => JsonCheck.String(m, JsonCheck.Path("models", i)))];
            }
            var (key, secret, owner) = await access.CreateKeyAsync(project, name, models, CancellationToken.None);
            authenticator.Changed();
            await JsonResponse.WriteAsync(context.Response, (key, secret, owner.Name),
                static (writer, s) => AccessService.WriteKey(writer, s.key, s.Name, s.secret), StatusCodes.Status201Created);
        });

        app.MapDelete("/admin/keys/{id}", async (HttpContext context, string id, AccessService access, Authenticator authenticator) =>
        {
            if (!await access.RevokeAsync(id, CancellationToken.None))
            {
                throw new OpenAIException(new OpenAIError(StatusCodes.Status404NotFound, $"No active API key with id '{id}'.", OpenAIError.InvalidRequestType, "id", "not_found"));
            }
            authenticator.Changed();
            await JsonResponse.WriteDeletedAsync(context.Response, "api_key.deleted", id);
        });
        return app;
    }

    private static async Task<JsonDocument> ParseAsync(HttpContext context, ApiOptions options)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        return JsonBody.Parse(body);
    }

    private static void WriteList<T>(Utf8JsonWriter writer, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list"u8);
        writer.WriteStartArray("data"u8);
        foreach (var item in items)
        {
            write(writer, item);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
