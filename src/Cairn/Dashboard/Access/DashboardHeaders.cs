namespace Cairn.Dashboard.Access;

/// <summary>Response headers of every dashboard response.</summary>
internal static class DashboardHeaders
{
    // Images and audio of stored messages are shown only from data: URLs; a remote URL is shown as text, so
    // opening a completion never makes the browser fetch anything from elsewhere.
    private const string Policy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; media-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void Set(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = Policy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        // Pages with a form get no-store from antiforgery, which warns when it has to override a value set here.
        response.OnStarting(static state =>
        {
            var headers = ((HttpResponse)state).Headers;
            if (string.IsNullOrEmpty(headers.CacheControl))
            {
                headers.CacheControl = "no-store";
            }
            return Task.CompletedTask;
        }, response);
    }
}
