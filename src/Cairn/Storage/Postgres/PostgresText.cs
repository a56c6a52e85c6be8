using System.Text;

namespace Cairn.Storage.Postgres;

/// <summary>
/// PostgreSQL text cannot hold U+0000, which JSON strings (metadata, cursors) can. Text columns get an injective
/// escape instead: U+0001 becomes U+0001 U+0001 and U+0000 becomes U+0001 U+0002. Equal strings stay equal and
/// different ones stay different, which is all filters need; ordinary text is passed through untouched.
/// </summary>
internal static class PostgresText
{
    public static string Encode(string text)
    {
        if (text.AsSpan().IndexOfAny('\0', '\u0001') < 0)
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\0' => escaped.Append('\u0001').Append('\u0002'),
                '\u0001' => escaped.Append('\u0001').Append('\u0001'),
                _ => escaped.Append(c),
            };
        }
        return escaped.ToString();
    }

    /// <summary>The text <see cref="Encode(string)"/> was given.</summary>
    public static string Decode(string text)
    {
        if (!text.Contains('\u0001', StringComparison.Ordinal))
        {
            return text;
        }
        var plain = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\u0001' && i + 1 < text.Length)
            {
                plain.Append(text[++i] == '\u0002' ? '\0' : '\u0001');
            }
            else
            {
                plain.Append(text[i]);
            }
        }
        return plain.ToString();
    }

    public static IReadOnlyDictionary<string, string> Encode(IReadOnlyDictionary<string, string> metadata)
    {
        foreach (var (key, value) in metadata)
        {
            if (Encode(key) != key || Encode(value) != value)
            {
                return metadata.ToDictionary(p => Encode(p.Key), p => Encode(p.Value), StringComparer.Ordinal);
            }
        }
        return metadata;
    }
}
