using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cairn.Http;

/// <summary><c>GET /health</c> on ASP.NET Core health checks: 200 when the store answers, 503 when it does not.</summary>
internal static class HealthEndpoints
{
    private const string Healthy = """{"status":"ok"}""";
    private const string Unhealthy = """{"status":"unavailable","reason":"the store does not answer"}""";

    /// <summary>The health checks; the composition root adds each one (the store's, for one).</summary>
    public static IHealthChecksBuilder AddCairnHealth(this IServiceCollection services) => services.AddHealthChecks();

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            // Unhealthy is 503 by default; the body is Cairn's own short JSON instead of the default text.
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(report.Status == HealthStatus.Healthy ? Healthy : Unhealthy, context.RequestAborted);
            },
        }).WithMetadata(new HttpMethodMetadata(["GET"]));
        return app;
    }
}
