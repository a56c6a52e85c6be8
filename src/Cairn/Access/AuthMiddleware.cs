using Cairn.OpenAI;

namespace Cairn.Access;

/// <summary>
/// Requires a project key on <c>/v1</c> (once authentication is on), the admin key on <c>/admin</c>, and on
/// <c>/metrics</c> once authentication is on. A missing,
/// wrong or revoked key gets the same 401 as from OpenAI, which says nothing about whether the key exists. Wrong
/// keys are counted per client address (<see cref="FailedAuthThrottle"/>). While authentication is off, only
/// requests addressed to loopback are served (<see cref="LocalOnlyRequests"/>); nothing is served until
/// <see cref="AuthStartup"/> has checked the addresses Kestrel bound.
/// </summary>
internal sealed class AuthMiddleware(RequestDelegate next, Authenticator authenticator, FailedAuthThrottle throttle, TimeProvider clock)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var arrived = clock.GetTimestamp();
        var caller = Caller.Anonymous;
        if (!authenticator.ListeningChecked)
        {
            throw new OpenAIException(OpenAIError.Unavailable("Cairn is starting; try again in a moment."));
        }
        var path = context.Request.Path;
        var admin = path.StartsWithSegments("/admin");
        if (admin || (path.StartsWithSegments("/metrics") && await authenticator.IsOnAsync(context.RequestAborted)))
        {
            var secret = ApiKeys.FromRequest(context.Request);
            if (!authenticator.HasAdminKey)
            {
                throw new OpenAIException(new OpenAIError(StatusCodes.Status401Unauthorized,
                    admin
                        ? "The admin API is off: start Cairn with the admin key in the CAIRN_ADMIN_KEY environment variable."
                        : "With API keys on, /metrics needs the admin key: start Cairn with it in the CAIRN_ADMIN_KEY environment variable, or serve metrics at Observability:MetricsUrl.",
                    OpenAIError.InvalidRequestType, null, "invalid_api_key"));
            }
            if (secret is not null)
            {
                throttle.ThrowIfBlocked(context);
            }
            if (secret is null || !authenticator.IsAdmin(secret))
            {
                throw Failed(context, secret);
            }
        }
        else if (await authenticator.IsOnAsync(context.RequestAborted))
        {
            if (path.StartsWithSegments("/v1"))
            {
                var secret = ApiKeys.FromRequest(context.Request);
                if (secret is not null)
                {
                    throttle.ThrowIfBlocked(context);
                }
                var grant = secret is null ? null : await authenticator.FindAsync(secret, context.RequestAborted);
                if (grant is null)
                {
                    throw Failed(context, secret);
                }
                caller = new Caller(grant.Project.Id, grant);
            }
        }
        else if (LocalOnlyRequests.Refusal(context.Request) is { } refusal)
        {
            throw new OpenAIException(refusal);
        }
        // The request id is OpenAIMiddleware's, which runs first: it is the request's TraceIdentifier.
        context.Features.Set(new Exchange(context.TraceIdentifier, arrived, caller));
        await next(context);
    }

    private OpenAIException Failed(HttpContext context, string? secret)
    {
        if (secret is not null)
        {
            throttle.Failed(context);
        }
        return Unauthorized(secret);
    }

    private static OpenAIException Unauthorized(string? secret) => new(secret is null
        ? new OpenAIError(StatusCodes.Status401Unauthorized,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the api-key header. Create one with: cairn keys create --project NAME",
            OpenAIError.InvalidRequestType, null, null)
        : new OpenAIError(StatusCodes.Status401Unauthorized,
            $"Incorrect API key provided: {ApiKeys.Mask(secret)}. Create one with: cairn keys create --project NAME",
            OpenAIError.InvalidRequestType, null, "invalid_api_key"));
}
