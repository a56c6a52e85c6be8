using System.Globalization;
using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>Small <see cref="Utf8JsonWriter"/> helpers for writing OpenAI's shapes.</summary>
internal static class JsonWriting
{
    /// <summary>Writes text as OpenAI does (quotes, apostrophes and non-ASCII as themselves), not HTML-safe escaped.</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
