using System.Security.Cryptography;

namespace Cairn.OpenAI;

/// <summary>Makes identifiers in OpenAI's formats.</summary>
internal static class Ids
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary><c>chatcmpl-</c> and 29 base62 characters, like OpenAI's.</summary>
    public static string Completion() => string.Create(38, 0, static (span, _) =>
    {
        "chatcmpl-".CopyTo(span);
        RandomNumberGenerator.GetItems(Base62, span[9..]);
    });

    /// <summary><c>req_</c> and 32 hex characters.</summary>
    public static string Request() => "req_" + RandomNumberGenerator.GetHexString(32, lowercase: true);

    public static long Seed() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
}
