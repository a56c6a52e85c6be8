using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cairn.Dashboard.Pages;

/// <summary>JSON as the pages show it: indented, with text as typed (the page's HTML encoding does the escaping).</summary>
internal static class JsonView
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Pretty(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Indented))
        {
            element.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>A string that holds JSON (tool call arguments), indented; as it is when it is not JSON.</summary>
    public static string PrettyText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return text ?? "";
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            return Pretty(document.RootElement);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    public static JsonElement? Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? value
            : null;

    public static string? String(JsonElement element, string name) =>
        Get(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    /// <summary>A scalar as text (numbers as written), or indented JSON for objects and arrays.</summary>
    public static string Show(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Object or JsonValueKind.Array => Pretty(value),
        _ => value.GetRawText(),
    };

    public static IEnumerable<JsonElement> Items(JsonElement? array) =>
        array is { ValueKind: JsonValueKind.Array } items ? items.EnumerateArray() : [];
}
