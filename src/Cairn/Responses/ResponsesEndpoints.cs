using Cairn.Access;
using Cairn.Completions;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using Cairn.Storage;

namespace Cairn.Responses;

/// <summary>The Responses API: create and count input tokens (by <see cref="ResponsePipeline"/>), retrieve, delete, cancel and list input items.</summary>
internal static class ResponsesEndpoints
{
    public static IEndpointRouteBuilder MapResponses(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", (HttpContext context, Exchange exchange, ResponsePipeline pipeline) => pipeline.CreateAsync(context, exchange));
        app.MapPost("/v1/responses/input_tokens",
            (HttpContext context, Exchange exchange, ResponsePipeline pipeline) => pipeline.CountInputTokensAsync(context, exchange));
        app.MapGet("/v1/responses/{response_id}", GetAsync);
        app.MapDelete("/v1/responses/{response_id}", DeleteAsync);
        app.MapPost("/v1/responses/{response_id}/cancel", CancelAsync);
        app.MapGet("/v1/responses/{response_id}/input_items", ListInputItemsAsync);
        return app;
    }

    private static async Task GetAsync(HttpContext context, Exchange exchange, string response_id, IResponseStore store)
    {
        if (context.Request.Query.TryGetValue("stream", out var stream) && stream.ToString() is "true")
        {
            throw OpenAIException.InvalidRequest("stream",
                "Cairn answers every response in its request, so there is no stream to resume: retrieve the response without 'stream'.",
                "unsupported_parameter");
        }
        var body = await store.GetAsync(exchange.Caller.ProjectId, response_id, context.RequestAborted)
            ?? throw new OpenAIException(OpenAIError.ResponseNotFound(response_id));
        await JsonResponse.WriteAsync(context.Response, body);
    }

    private static async Task DeleteAsync(HttpContext context, Exchange exchange, string response_id, IResponseStore store)
    {
        if (!await store.DeleteAsync(exchange.Caller.ProjectId, response_id, CancellationToken.None))
        {
            throw new OpenAIException(OpenAIError.ResponseNotFound(response_id));
        }
        // The live API's order: id first.
        await JsonResponse.WriteAsync(context.Response, response_id, static (writer, id) =>
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, id);
            writer.WriteString("object"u8, "response.deleted"u8);
            writer.WriteBoolean("deleted"u8, true);
            writer.WriteEndObject();
        });
    }

    /// <summary>Only background responses can be cancelled, and Cairn runs none: a stored response is already finished.</summary>
    private static async Task CancelAsync(HttpContext context, Exchange exchange, string response_id, IResponseStore store)
    {
        _ = await store.GetAsync(exchange.Caller.ProjectId, response_id, context.RequestAborted)
            ?? throw new OpenAIException(OpenAIError.ResponseNotFound(response_id));
        throw OpenAIException.InvalidRequest(null, "Only responses created with 'background': true can be cancelled; this one has already finished.");
    }

    /// <summary>
    /// The <c>include</c> values of a query, however the client spelled the array: <c>include[]=</c> (the .NET SDK),
    /// <c>include%5B%5D=</c> (openai-node's, decoded to the same) or plain repeated <c>include=</c>.
    /// </summary>
    private static HashSet<string> Include(IQueryCollection query)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in (string[])["include", "include[]"])
        {
            foreach (var value in query[name])
            {
                if (value is not null)
                {
                    values.Add(value);
                }
            }
        }
        return values;
    }

    private static async Task ListInputItemsAsync(HttpContext context, Exchange exchange, string response_id, ApiOptions options, IResponseStore store)
    {
        var query = ListQueryParser.Items(context.Request.Query) with { MaxBytes = options.MaxListPageBytes };
        var imageUrls = Include(context.Request.Query).Contains("message.input_image.image_url");
        var (page, failure) = await store.ListInputItemsAsync(exchange.Caller.ProjectId, response_id, query, context.RequestAborted);
        if (failure == ListFailure.NotFound)
        {
            throw new OpenAIException(OpenAIError.ResponseNotFound(response_id));
        }
        if (failure == ListFailure.UnknownCursor)
        {
            throw OpenAIException.InvalidRequest("after", $"Invalid 'after': '{query.After}' is not an input item of response {response_id}.", "invalid_value");
        }
        // The live API's order: object, data, first_id, has_more, last_id.
        await JsonResponse.WriteAsync(context.Response, (page!, imageUrls), static (writer, state) =>
        {
            var (page, imageUrls) = state;
            writer.WriteStartObject();
            writer.WriteString("object"u8, "list"u8);
            writer.WriteStartArray("data"u8);
            foreach (var item in page.Items)
            {
                writer.WriteRawValue(ResponseItems.Listed(item.Body, imageUrls), skipInputValidation: true);
            }
            writer.WriteEndArray();
            writer.StringOrNull("first_id"u8, page.Items.Count > 0 ? page.Items[0].Id : null);
            writer.WriteBoolean("has_more"u8, page.HasMore);
            writer.StringOrNull("last_id"u8, page.Items.Count > 0 ? page.Items[^1].Id : null);
            writer.WriteEndObject();
        });
    }
}
