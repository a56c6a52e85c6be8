using Cairn.Storage;
using System.Security.Claims;
using System.Security.Cryptography;
using Cairn.Access;
using Microsoft.AspNetCore.Authentication;

namespace Cairn.Dashboard.Access;

/// <summary>
/// Signs people in to the dashboard with an API key or the admin key, and tells who a request's session belongs
/// to. The session cookie (encrypted by ASP.NET Core data protection) holds the key's SHA-256, never the key, and
/// every request looks the key up again, so a revoked key's session ends at once.
/// </summary>
internal sealed class DashboardSessions(Authenticator authenticator, IAccessStore access)
{
    public const string Scheme = "CairnDashboard";
    private const string KindClaim = "cairn:kind";
    private const string HashClaim = "cairn:hash";

    /// <summary>The viewer of a request, or null when it must sign in.</summary>
    public async Task<DashboardViewer?> FindAsync(HttpContext context)
    {
        if (!await authenticator.IsOnAsync(context.RequestAborted))
        {
            return new DashboardViewer(Cairn.Storage.Projects.Default, "default", SignedIn: false);
        }
        var session = await context.AuthenticateAsync(Scheme);
        if (!session.Succeeded || session.Principal.FindFirst(HashClaim)?.Value is not { } hex || !TryHash(hex, out var hash))
        {
            return null;
        }
        if (session.Principal.FindFirst(KindClaim)?.Value == "admin")
        {
            return authenticator.IsAdminHash(hash) ? new DashboardViewer(null, "admin", SignedIn: true) : null;
        }
        var grant = await access.FindKeyAsync(hash, context.RequestAborted);
        return grant is not null && CryptographicOperations.FixedTimeEquals(grant.Hash, hash)
            ? new DashboardViewer(grant.Project.Id, grant.Project.Name, SignedIn: true)
            : null;
    }

    /// <summary>Starts a session for a key; false (and no session) when the key is neither the admin key nor a live API key.</summary>
    public async Task<bool> SignInAsync(HttpContext context, string secret)
    {
        string kind;
        if (authenticator.IsAdmin(secret))
        {
            kind = "admin";
        }
        else if (await authenticator.FindAsync(secret, context.RequestAborted) is not null)
        {
            kind = "key";
        }
        else
        {
            return false;
        }
        var identity = new ClaimsIdentity(
            [new Claim(KindClaim, kind), new Claim(HashClaim, Convert.ToHexString(ApiKeys.Hash(secret)))], Scheme);
        await context.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
        return true;
    }

    public static Task SignOutAsync(HttpContext context) => context.SignOutAsync(Scheme);

    private static bool TryHash(string hex, out byte[] hash)
    {
        try
        {
            hash = Convert.FromHexString(hex);
            return hash.Length == 32;
        }
        catch (FormatException)
        {
            hash = [];
            return false;
        }
    }
}
