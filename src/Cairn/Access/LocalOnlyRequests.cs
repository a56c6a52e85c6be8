using System.Net;
using Cairn.OpenAI;

namespace Cairn.Access;

/// <summary>
/// While authentication is off, Cairn answers this machine only, and a browser on this machine must not be turned
/// against it: a request must name Cairn by a loopback host (<c>localhost</c>, 127.0.0.0/8, <c>[::1]</c>, any port),
/// which a DNS-rebound name is not, and a cross-origin request from a page (its <c>Origin</c> header) must come from
/// a loopback origin too.
/// </summary>
internal static class LocalOnlyRequests
{
    /// <summary>Why the request is refused, or null when it may go on.</summary>
    public static OpenAIError? Refusal(HttpRequest request)
    {
        var host = request.Host.Host;
        if (host.Length > 0 && !IsLoopbackHost(host))
        {
            return new OpenAIError(StatusCodes.Status403Forbidden,
                "Authentication is off (no API keys exist), so Cairn answers only requests addressed to this machine by a loopback name " +
                "(localhost, 127.0.0.1, [::1]); the Host header named another. Create a key to serve other names: cairn keys create --project NAME",
                OpenAIError.InvalidRequestType, null, "host_not_allowed");
        }
        var path = request.Path;
        if ((path.StartsWithSegments("/v1") || path.StartsWithSegments("/admin"))
            && request.Headers.Origin is [{ } origin, ..] && !IsLoopbackOrigin(origin))
        {
            return new OpenAIError(StatusCodes.Status403Forbidden,
                "Authentication is off (no API keys exist), so Cairn refuses requests sent by web pages of other origins; " +
                "this one came from a page that is not served from this machine's loopback address. Create a key to allow it: cairn keys create --project NAME",
                OpenAIError.InvalidRequestType, null, "origin_not_allowed");
        }
        return null;
    }

    internal static bool IsLoopbackHost(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out var address) && IPAddress.IsLoopback(address);
    }

    internal static bool IsLoopbackOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && IsLoopbackHost(uri.Host);
}
