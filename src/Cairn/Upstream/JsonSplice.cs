using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// Rewrites an upstream's completion or chunk (or response object, or Responses event) for the client by copying its
/// bytes as they came and splicing in Cairn's values: a completion's <c>id</c> and <c>created</c> (leaving out
/// <c>usage</c> when asked), a response's id and echoes. Re-serializing the object would re-validate and re-escape
/// every string of every event, which is most of a relayed stream's cost.
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

    /// <summary>
    /// Writes <paramref name="source"/>, a JSON object already known to be valid, with each top-level property that
    /// <paramref name="patch"/> (an object of plain ASCII names) names given the patch's value: in place, or added at the
    /// end when the source lacks it. Everything else is written as it came, byte for byte, in its order.
    /// </summary>
    public static void WritePatched(IBufferWriter<byte> output, ReadOnlySpan<byte> source, JsonElement patch)
    {
        var properties = patch.EnumerateObject().ToArray();
        var patched = new bool[properties.Length];
        var reader = new Utf8JsonReader(source, Deep);
        reader.Read(); // the opening brace
        var copied = 0;
        var empty = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            empty = false;
            var match = -1;
            for (var i = 0; i < properties.Length && match < 0; i++)
            {
                match = reader.ValueTextEquals(JsonMarshal.GetRawUtf8PropertyName(properties[i])) ? i : -1;
            }
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            if (match >= 0)
            {
                Write(output, source[copied..valueStart]);
                Write(output, JsonMarshal.GetRawUtf8Value(properties[match].Value));
                copied = (int)reader.BytesConsumed;
                patched[match] = true;
            }
        }
        var close = (int)reader.TokenStartIndex; // the closing brace
        Write(output, source[copied..close]);
        for (var i = 0; i < properties.Length; i++)
        {
            if (!patched[i])
            {
                Write(output, empty ? "\""u8 : ",\""u8);
                Write(output, JsonMarshal.GetRawUtf8PropertyName(properties[i]));
                Write(output, "\":"u8);
                Write(output, JsonMarshal.GetRawUtf8Value(properties[i].Value));
                empty = false;
            }
        }
        Write(output, source[close..]);
    }

    /// <summary>
    /// Where, in <paramref name="source"/> (a JSON object already known to be valid), the value of its top-level
    /// property <paramref name="name"/> lies; false when it has none that is an object.
    /// </summary>
    public static bool TryFindObject(ReadOnlySpan<byte> source, ReadOnlySpan<byte> name, out Range value)
    {
        var reader = new Utf8JsonReader(source, Deep);
        reader.Read(); // the opening brace
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var found = reader.ValueTextEquals(name);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var isObject = reader.TokenType == JsonTokenType.StartObject;
            reader.Skip();
            if (found && isObject)
            {
                value = start..(int)reader.BytesConsumed;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>A response echoes the client's request (its tools' schemas among it), which may be as deep as Cairn takes.</summary>
    private static readonly JsonReaderOptions Deep = new() { MaxDepth = JsonBody.StoredMaxDepth };

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
