using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Cairn.Upstream;

/// <summary>
/// Rewrites an upstream's completion or chunk for the client by copying its bytes as they came and splicing in
/// Cairn's <c>id</c> and <c>created</c> (and leaving out <c>usage</c> when asked). Re-serializing the object would
/// re-validate and re-escape every string of every event, which is most of a relayed stream's cost.
/// </summary>
internal static class JsonSplice
{
    /// <summary>
    /// Writes <paramref name="source"/>, a JSON object already known to be valid, with its top-level <c>id</c>
    /// replaced by <paramref name="id"/> (a JSON-safe ASCII string), <c>created</c> by <paramref name="created"/>,
    /// and without its top-level <c>usage</c> when <paramref name="dropUsage"/>.
    /// </summary>
    public static void WriteRewritten(IBufferWriter<byte> output, ReadOnlySpan<byte> source, string id, long created, bool dropUsage)
    {
        var reader = new Utf8JsonReader(source);
        reader.Read(); // the opening brace
        var copied = 0;                        // source bytes up to here are written (or dropped)
        var previousEnd = (int)reader.BytesConsumed; // end of the previous property's value, or just past '{'
        var first = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            var isCreated = !isId && reader.ValueTextEquals("created"u8);
            var isUsage = dropUsage && !isId && !isCreated && reader.ValueTextEquals("usage"u8);
            var nameStart = (int)reader.TokenStartIndex;
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            var valueEnd = (int)reader.BytesConsumed;
            if (isUsage)
            {
                if (first)
                {
                    // Nothing before it to take its comma from: drop it with the comma that follows it, if any.
                    Write(output, source[copied..nameStart]);
                    copied = SkipComma(source, valueEnd);
                }
                else
                {
                    Write(output, source[copied..previousEnd]);
                    copied = valueEnd;
                }
                continue;
            }
            if (isId || isCreated)
            {
                Write(output, source[copied..valueStart]);
                if (isId)
                {
                    WriteString(output, id);
                }
                else
                {
                    var span = output.GetSpan(20);
                    Utf8Formatter.TryFormat(created, span, out var written);
                    output.Advance(written);
                }
                copied = valueEnd;
            }
            previousEnd = valueEnd;
            first = false;
        }
        Write(output, source[copied..]);
    }

    private static int SkipComma(ReadOnlySpan<byte> source, int at)
    {
        var i = at;
        while (i < source.Length && source[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }
        return i < source.Length && source[i] == (byte)',' ? i + 1 : at;
    }

    private static void WriteString(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length + 2);
        span[0] = (byte)'"';
        for (var i = 0; i < ascii.Length; i++)
        {
            span[i + 1] = (byte)ascii[i];
        }
        span[ascii.Length + 1] = (byte)'"';
        output.Advance(ascii.Length + 2);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            output.Write(bytes);
        }
    }
}
