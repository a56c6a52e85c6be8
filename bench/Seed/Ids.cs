/// <summary>Completion ids in Cairn's format (src/Cairn/OpenAI/Ids.cs): chatcmpl-, 7 base62 time characters, 22 random.</summary>
internal static class Ids
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Completion(long millis, Random random) => string.Create(38, (millis, random), static (span, state) =>
    {
        "chatcmpl-".CopyTo(span);
        var millis = state.millis;
        for (var i = 15; i >= 9; i--)
        {
            span[i] = Base62[(int)(millis % 62)];
            millis /= 62;
        }
        for (var i = 16; i < span.Length; i++)
        {
            span[i] = Base62[state.random.Next(62)];
        }
    });
}
