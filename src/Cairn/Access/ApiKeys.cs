using System.Security.Cryptography;
using System.Text;

namespace Cairn.Access;

/// <summary>
/// API key secrets: <c>sk-cairn-</c> and 48 base62 characters (285 random bits), shaped like OpenAI's keys so that
/// clients and secret scanners treat them as keys. Only a SHA-256 hash is stored: the secret is random enough that a
/// slow password hash adds nothing, and a fixed-size hash is an index key.
/// </summary>
internal static class ApiKeys
{
    public const string Prefix = "sk-cairn-";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewSecret() => Prefix + RandomNumberGenerator.GetString(Base62, 48);

    /// <summary><c>key_</c> and 16 base62 characters: the id a key is listed and revoked by.</summary>
    public static string NewId() => "key_" + RandomNumberGenerator.GetString(Base62, 16);

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>What a listing shows of a secret: its start and its last four characters, as OpenAI's dashboard does.</summary>
    public static string Redact(string secret) =>
        secret.Length <= 16 ? new string('*', secret.Length) : $"{secret[..12]}…{secret[^4..]}";

    /// <summary>How an error message shows a key a client sent: OpenAI's masking, never the whole key.</summary>
    public static string Mask(string given) =>
        given.Length <= 10 ? new string('*', given.Length) : given[..6] + new string('*', Math.Min(given.Length - 10, 20)) + given[^4..];

    /// <summary>The key a request carries: <c>Authorization: Bearer …</c> (OpenAI) or <c>api-key: …</c> (Azure clients).</summary>
    public static string? FromRequest(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : authorization.Trim();
        }
        var apiKey = request.Headers["api-key"].ToString().Trim();
        return apiKey.Length > 0 ? apiKey : null;
    }
}
