using System.Text;
using System.Text.Json;

namespace Cairn.Storage;

/// <summary>A completion's metadata pairs as the JSON object both stores keep beside the body (for updates and copies).</summary>
internal static class MetadataJson
{
    public static string Write(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.Count == 0)
        {
            return "{}";
        }
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, Cairn.OpenAI.JsonWriting.Options))
        {
            json.WriteStartObject();
            foreach (var (key, value) in metadata)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public static Dictionary<string, string> Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in document.RootElement.EnumerateObject())
        {
            pairs[pair.Name] = pair.Value.GetString()!;
        }
        return pairs;
    }
}
