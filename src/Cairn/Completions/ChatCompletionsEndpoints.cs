using Cairn.Access;

namespace Cairn.Completions;

/// <summary><c>POST /v1/chat/completions</c>, answered by <see cref="CreatePipeline"/>.</summary>
internal static class ChatCompletionsEndpoints
{
    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", (HttpContext context, Exchange exchange, CreatePipeline pipeline) => pipeline.CreateAsync(context, exchange));
        return app;
    }
}
