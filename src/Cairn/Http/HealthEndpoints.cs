using Cairn.Storage;

namespace Cairn.Http;

/// <summary><c>GET /health</c>: 200 when the store answers, 503 when it does not.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", async (HttpContext context, ICompletionStore store) =>
        {
            bool healthy;
            try
            {
                healthy = await store.PingAsync(context.RequestAborted);
            }
            catch (System.Data.Common.DbException)
            {
                healthy = false;
            }
            context.Response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(healthy ? """{"status":"ok"}""" : """{"status":"unavailable","reason":"the store does not answer"}""");
        });
        return app;
    }
}
