namespace Cairn.OpenAI;

/// <summary>Makes identifiers in OpenAI's formats.</summary>
internal static class Ids
{
    /// <summary>The alphabet of ids and padding: digits, upper and lower case letters.</summary>
    public const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

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

    /// <summary>
    /// <c>resp_</c> and 50 hex digits, like OpenAI's: the first 16 are the time in milliseconds (ids made close
    /// together sort together), the other 34 random from the cryptographic pool.
    /// </summary>
    public static string Response(TimeProvider clock) => "resp_" + TimePrefix(clock) + RandomHex(17);

    /// <summary>
    /// The least response id made at <paramref name="time"/> or later: every id Cairn made before it sorts (bytewise)
    /// below it, every id made from then on above it.
    /// </summary>
    public static string ResponseFloor(DateTimeOffset time) =>
        "resp_" + Math.Max(0, time.ToUnixTimeMilliseconds()).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// An item of the response <paramref name="responseId"/>: <paramref name="prefix"/> (<c>msg</c>, <c>fc</c>, <c>rs</c>)
    /// and 50 hex digits, the first 16 shared with the response's id as OpenAI's are.
    /// </summary>
    public static string Item(string prefix, string responseId) =>
        prefix + "_" + (responseId.Length >= 21 && responseId.StartsWith("resp_", StringComparison.Ordinal) ? responseId[5..21] : RandomHex(8)) + RandomHex(17);

    /// <summary><c>call_</c> and 24 base62 characters: the id a function call is answered by.</summary>
    public static string Call() => string.Create(29, 0, static (span, _) =>
    {
        "call_".CopyTo(span);
        RandomPool.FillFrom(Base62, span[5..]);
    });

    private static string TimePrefix(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    private static string RandomHex(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        RandomPool.Fill(random);
        return Convert.ToHexStringLower(random);
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
