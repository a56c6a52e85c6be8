using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Cairn.OpenAI;

/// <summary>
/// Whether the string or key a <see cref="Utf8JsonReader"/> stands on is Unicode text .NET can read: its bytes
/// valid UTF-8, and no <c>\u</c> escape of a lone surrogate. Shared by every reader of JSON that Cairn did not write
/// (client bodies, import lines, upstream answers), so what passes can always be read, stored and read back.
/// </summary>
internal static class JsonText
{
    public enum Problem
    {
        None,
        InvalidUtf8,
        LoneSurrogate,
    }

    /// <summary>Checks the current string token; <paramref name="buffer"/> is a pooled scratch buffer the caller returns with <see cref="Return"/>.</summary>
    public static Problem Check(ref Utf8JsonReader reader, ref char[]? buffer)
    {
        var raw = reader.ValueSpan;
        if (!Utf8.IsValid(raw))
        {
            return Problem.InvalidUtf8;
        }
        if (!reader.ValueIsEscaped)
        {
            return Problem.None;
        }
        // Unescaping is what finds a lone surrogate; a string is never longer in chars than in escaped bytes.
        if (buffer is null || buffer.Length < raw.Length)
        {
            Return(buffer);
            buffer = ArrayPool<char>.Shared.Rent(Math.Max(raw.Length, 256));
        }
        try
        {
            reader.CopyString(buffer);
            return Problem.None;
        }
        catch (InvalidOperationException)
        {
            return Problem.LoneSurrogate;
        }
    }

    /// <summary>Whether every key and string of <paramref name="json"/> (already known to be well formed) is Unicode text.</summary>
    public static bool IsValid(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        char[]? buffer = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is (JsonTokenType.String or JsonTokenType.PropertyName) && Check(ref reader, ref buffer) != Problem.None)
                {
                    return false;
                }
            }
            return true;
        }
        finally
        {
            Return(buffer);
        }
    }

    public static void Return(char[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }
}
