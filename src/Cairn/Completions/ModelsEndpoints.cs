using System.Text.Json;
using Cairn.Access;
using Cairn.Http;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Completions;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{model}</c>; ids may hold <c>:</c> and <c>/</c>.</summary>
internal static class ModelsEndpoints
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (HttpContext context, Exchange exchange, ModelCatalog models) =>
            JsonResponse.WriteAsync(context.Response, (models, caller: exchange.Caller), static (writer, s) =>
            {
                writer.WriteStartObject();
                writer.WriteString("object"u8, "list"u8);
                writer.WriteStartArray("data"u8);
                foreach (var card in s.models.All.Where(c => s.caller.Allows(c.Id)).OrderBy(c => c.Id, StringComparer.Ordinal))
                {
                    WriteModel(writer, card);
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }));
        app.MapGet("/v1/models/{**model}", (HttpContext context, Exchange exchange, string model, ModelCatalog models) =>
        {
            var card = (exchange.Caller.Allows(model) ? models.Find(model) : null) ?? throw new OpenAIException(new OpenAIError(StatusCodes.Status404NotFound,
                $"The model '{model}' does not exist", OpenAIError.InvalidRequestType, "model", "model_not_found"));
            return JsonResponse.WriteAsync(context.Response, card, WriteModel);
        });
        return app;
    }

    private static void WriteModel(Utf8JsonWriter writer, ModelCard card)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, card.Id);
        writer.WriteString("object"u8, "model"u8);
        writer.WriteNumber("created"u8, card.Created);
        writer.WriteString("owned_by"u8, card.OwnedBy);
        writer.WriteEndObject();
    }
}
