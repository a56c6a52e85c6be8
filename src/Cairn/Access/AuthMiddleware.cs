using Cairn.OpenAI;

namespace Cairn.Access;

/// <summary>
/// Requires a project key on <c>/v1</c> (once authentication is on) and the admin key on <c>/admin</c>. A missing,
/// wrong or revoked key gets the same 401 as from OpenAI, which says nothing about whether the key exists.
/// </summary>
internal sealed class AuthMiddleware(RequestDelegate next, Authenticator authenticator)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/admin"))
        {
            var secret = ApiKeys.FromRequest(context.Request);
            if (!authenticator.HasAdminKey)
            {
                throw new OpenAIException(new OpenAIError(StatusCodes.Status401Unauthorized,
                    "The admin API is off: start Cairn with the admin key in the CAIRN_ADMIN_KEY environment variable.",
                    OpenAIError.InvalidRequestType, null, "invalid_api_key"));
            }
            if (secret is null || !authenticator.IsAdmin(secret))
            {
                throw Unauthorized(secret);
            }
        }
        else if (path.StartsWithSegments("/v1") && await authenticator.IsOnAsync(context.RequestAborted))
        {
            var secret = ApiKeys.FromRequest(context.Request);
            var grant = secret is null ? null : await authenticator.FindAsync(secret, context.RequestAborted);
            if (grant is null)
            {
                throw Unauthorized(secret);
            }
            Caller.Set(context, new Caller(grant.Project.Id, grant));
        }
        await next(context);
    }

    private static OpenAIException Unauthorized(string? secret) => new(secret is null
        ? new OpenAIError(StatusCodes.Status401Unauthorized,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the api-key header. Create one with: cairn keys create --project NAME",
            OpenAIError.InvalidRequestType, null, null)
        : new OpenAIError(StatusCodes.Status401Unauthorized,
            $"Incorrect API key provided: {ApiKeys.Mask(secret)}. Create one with: cairn keys create --project NAME",
            OpenAIError.InvalidRequestType, null, "invalid_api_key"));
}
