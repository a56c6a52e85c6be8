using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>Small <see cref="Utf8JsonWriter"/> helpers for writing OpenAI's shapes.</summary>
internal static class JsonWriting
{
    // One buffer and writer per thread, reused: a stored request writes its stored body and each message's item, and
    // a fresh buffer for each, doubling as it fills, made more garbage than the bytes themselves.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? writer;

    /// <summary>A buffer kept past this is let go instead of reused, so one huge body does not stay in memory.</summary>
    private const int KeptBufferBytes = 256 * 1024;

    /// <summary>Writes text as OpenAI does (quotes, apostrophes and non-ASCII as themselves), not HTML-safe escaped.</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The bytes <paramref name="write"/> writes, text escaped as OpenAI escapes it, in an array of exactly their length.</summary>
    public static byte[] ToUtf8(Action<Utf8JsonWriter> write)
    {
        // Taken off the thread while in use, so a write inside another gets buffers of its own.
        var bytes = buffer ?? new ArrayBufferWriter<byte>(4096);
        var json = writer;
        buffer = null;
        writer = null;
        if (json is null)
        {
            json = new Utf8JsonWriter(bytes, Options);
        }
        else
        {
            json.Reset(bytes);
        }
        try
        {
            write(json);
            json.Flush();
            return bytes.WrittenSpan.ToArray();
        }
        finally
        {
            if (bytes.Capacity <= KeptBufferBytes)
            {
                bytes.ResetWrittenCount();
                buffer = bytes;
                writer = json;
            }
            else
            {
                json.Dispose();
            }
        }
    }

    public static void StringOrNull(this Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    public static void RawOrNull(this Utf8JsonWriter writer, ReadOnlySpan<byte> name, JsonElement? value)
    {
        writer.WritePropertyName(name);
        if (value is { } element)
        {
            element.WriteTo(writer);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    /// <summary>Writes a number as OpenAI's stored objects do: <c>1.0</c>, not <c>1</c>.</summary>
    public static void Decimal(this Utf8JsonWriter writer, ReadOnlySpan<byte> name, double value)
    {
        writer.WritePropertyName(name);
        if (value == Math.Floor(value) && Math.Abs(value) < 1e15)
        {
            writer.WriteRawValue(value.ToString("0.0", CultureInfo.InvariantCulture), skipInputValidation: true);
        }
        else
        {
            writer.WriteNumberValue(value);
        }
    }

    public static void Metadata(this Utf8JsonWriter writer, IReadOnlyDictionary<string, string> metadata)
    {
        writer.WriteStartObject("metadata"u8);
        foreach (var (key, value) in metadata)
        {
            writer.WriteString(key, value);
        }
        writer.WriteEndObject();
    }
}
