namespace Cairn.OpenAI;

/// <summary>Makes identifiers in OpenAI's formats.</summary>
internal static class Ids
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>
    /// <c>chatcmpl-</c> and 29 base62 characters, like OpenAI's. The first 7 encode the time in milliseconds, so ids
    /// made close together sort close together: the id index then grows at its end instead of touching a random page
    /// per insert. The other 22 are random (131 bits), from the system's cryptographic generator: an id is not
    /// guessable, whatever random source the rest of Cairn is given.
    /// </summary>
    public static string Completion(TimeProvider clock) => string.Create(38, clock.GetUtcNow().ToUnixTimeMilliseconds(), static (span, millis) =>
    {
        WriteTimePrefix(span, millis);
        RandomPool.FillFrom(Base62, span[16..]);
    });

    /// <summary>A completion id made now, by the system clock.</summary>
    public static string Completion() => Completion(TimeProvider.System);

    /// <summary>
    /// The least completion id made at <paramref name="time"/> or later: every id made before it sorts (bytewise)
    /// below it, every id made from then on above it.
    /// </summary>
    public static string CompletionFloor(DateTimeOffset time) =>
        string.Create(16, Math.Max(0, time.ToUnixTimeMilliseconds()), static (span, millis) => WriteTimePrefix(span, millis));

    private static void WriteTimePrefix(Span<char> span, long millis)
    {
        "chatcmpl-".CopyTo(span);
        for (var i = 15; i >= 9; i--)
        {
            span[i] = Base62[(int)(millis % 62)];
            millis /= 62;
        }
    }

    /// <summary><c>req_</c> and 32 hex characters.</summary>
    public static string Request()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomPool.Fill(bytes);
        return "req_" + Convert.ToHexStringLower(bytes);
    }

    public static long Seed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomPool.Fill(bytes);
        return BitConverter.ToInt64(bytes);
    }
}
