using System.Text;
using System.Text.Json;

namespace Cairn.Storage.Postgres;

/// <summary>The <c>metadata</c> column's JSON: a completion's pairs, read back when they change.</summary>
internal static class PostgresJson
{
    public static string Metadata(IReadOnlyDictionary<string, string> metadata)
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

    public static Dictionary<string, string> ParseMetadata(string json)
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
