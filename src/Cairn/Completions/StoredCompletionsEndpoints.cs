using System.Text.Json;
using Cairn.Access;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Completions;

/// <summary>The stored-completions API: list, retrieve, update metadata, delete, and list input messages.</summary>
internal static class StoredCompletionsEndpoints
{
    public static IEndpointRouteBuilder MapStoredCompletions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/chat/completions", ListAsync);
        app.MapGet("/v1/chat/completions/{completion_id}", GetAsync);
        app.MapPost("/v1/chat/completions/{completion_id}", UpdateAsync);
        app.MapDelete("/v1/chat/completions/{completion_id}", DeleteAsync);
        app.MapGet("/v1/chat/completions/{completion_id}/messages", ListMessagesAsync);
        return app;
    }

    private static async Task ListAsync(HttpContext context, Exchange exchange, ApiOptions options, ICompletionStore store)
    {
        var query = ListQueryParser.Completions(context.Request.Query) with { MaxBytes = options.MaxListPageBytes };
        var (page, failure) = await store.ListAsync(exchange.Caller.ProjectId, query, context.RequestAborted);
        if (failure == ListFailure.UnknownCursor)
        {
            throw OpenAIException.InvalidRequest("after", $"Invalid 'after': no stored completion has the id '{query.After}'.", "invalid_value");
        }
        await WriteListAsync(context.Response, page!);
    }

    private static async Task GetAsync(HttpContext context, Exchange exchange, string completion_id, ICompletionStore store)
    {
        var body = await store.GetAsync(exchange.Caller.ProjectId, completion_id, context.RequestAborted)
            ?? throw new OpenAIException(OpenAIError.CompletionNotFound(completion_id));
        await JsonResponse.WriteAsync(context.Response, body);
    }

    private static async Task UpdateAsync(HttpContext context, Exchange exchange, string completion_id, ApiOptions options, ICompletionStore store)
    {
        var body = await RequestBody.ReadJsonAsync(context, options);
        var metadata = ParseUpdate(body);
        var updated = await store.UpdateMetadataAsync(exchange.Caller.ProjectId, completion_id, metadata,
                stored => StoredCompletionWriter.WithMetadata(stored, metadata), CancellationToken.None)
            ?? throw new OpenAIException(OpenAIError.CompletionNotFound(completion_id));
        await JsonResponse.WriteAsync(context.Response, updated);
    }

    private static IReadOnlyDictionary<string, string> ParseUpdate(ReadOnlyMemory<byte> body)
    {
        var document = JsonBody.Parse(body);
        using (document)
        {
            var root = JsonCheck.RequireBodyObject(document.RootElement);
            JsonCheck.OnlyKnown(root, "", "metadata");
            if (!root.TryGetProperty("metadata", out var metadata))
            {
                throw JsonCheck.Missing("metadata");
            }
            // Copied out of the document: the map outlives it.
            return new Dictionary<string, string>(MetadataParser.Parse(JsonCheck.Get(root, "metadata"), "metadata"));
        }
    }

    private static async Task DeleteAsync(HttpContext context, Exchange exchange, string completion_id, ICompletionStore store)
    {
        if (!await store.DeleteAsync(exchange.Caller.ProjectId, completion_id, CancellationToken.None))
        {
            throw new OpenAIException(OpenAIError.CompletionNotFound(completion_id));
        }
        await JsonResponse.WriteDeletedAsync(context.Response, "chat.completion.deleted", completion_id);
    }

    private static async Task ListMessagesAsync(HttpContext context, Exchange exchange, string completion_id, ApiOptions options, ICompletionStore store)
    {
        var query = ListQueryParser.Messages(context.Request.Query, completion_id) with { MaxBytes = options.MaxListPageBytes };
        var (page, failure) = await store.ListMessagesAsync(exchange.Caller.ProjectId, completion_id, query, context.RequestAborted);
        if (failure == ListFailure.NotFound)
        {
            throw new OpenAIException(OpenAIError.CompletionNotFound(completion_id));
        }
        await WriteListAsync(context.Response, page!);
    }

    /// <summary>The list envelope around stored items, written as stored: <c>object, data, first_id, last_id, has_more</c>.</summary>
    private static Task WriteListAsync(HttpResponse response, StoredPage page) =>
        JsonResponse.WriteAsync(response, page, static (writer, page) =>
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "list"u8);
            writer.WriteStartArray("data"u8);
            foreach (var item in page.Items)
            {
                writer.WriteRawValue(item.Body, skipInputValidation: true);
            }
            writer.WriteEndArray();
            writer.StringOrNull("first_id"u8, page.Items.Count > 0 ? page.Items[0].Id : null);
            writer.StringOrNull("last_id"u8, page.Items.Count > 0 ? page.Items[^1].Id : null);
            writer.WriteBoolean("has_more"u8, page.HasMore);
            writer.WriteEndObject();
        });
}
