using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Cairn.Upstream;

/// <summary>
/// Checks an upstream's JSON for text .NET cannot read as a string: bytes that are not UTF-8, or a <c>\u</c> escape
/// of a lone surrogate. Such an answer would be relayed but could never be stored, counted or read back.
/// </summary>
internal static class JsonUnicode
{
    /// <summary>Whether every property name and string of <paramref name="json"/> (already known to be well-formed) is valid Unicode.</summary>
    public static bool IsValid(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        char[]? chars = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
                {
                    continue;
                }
                var raw = reader.ValueSpan;
                if (!reader.ValueIsEscaped)
                {
                    if (!Utf8.IsValid(raw))
                    {
                        return false;
                    }
                    continue;
                }
                // Unescaping is what finds a lone surrogate; a string is never longer in chars than in escaped bytes.
                if (chars is null || chars.Length < raw.Length)
                {
                    if (chars is not null)
                    {
                        ArrayPool<char>.Shared.Return(chars);
                    }
                    chars = ArrayPool<char>.Shared.Rent(raw.Length);
                }
                try
                {
                    reader.CopyString(chars);
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }
            return true;
        }
        finally
        {
            if (chars is not null)
            {
                ArrayPool<char>.Shared.Return(chars);
            }
        }
    }
}
