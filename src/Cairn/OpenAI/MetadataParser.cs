using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI;

/// <summary>Validates a <c>metadata</c> map: at most 16 pairs, keys up to 64 characters, string values up to 512.</summary>
internal static class MetadataParser
{
    public const int MaxPairs = 16;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 512;

    public static IReadOnlyDictionary<string, string> Parse(JsonElement? metadata, string at)
    {
        if (metadata is not { } value)
        {
            return ChatCompletionRequest.EmptyMetadata;
        }
        RequireObject(value, at);
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var path = Path(at, property.Name);
            if (property.Name.Length > MaxKeyLength)
            {
                throw OpenAIException.InvalidRequest(path,
                    $"Invalid '{at}': key too long. Expected keys with maximum length {MaxKeyLength}, but got a key with length {property.Name.Length} instead.",
                    "string_above_max_length");
            }
            var text = String(property.Value, path);
            // Stored in text columns (PostgreSQL's cannot hold U+0000) and matched by list filters.
            JsonBody.RefuseNul(property.Name, path);
            JsonBody.RefuseNul(text, path);
            if (text.Length > MaxValueLength)
            {
                throw Invalid(path,
                    $"string too long. Expected a string with maximum length {MaxValueLength}, but got a string with length {text.Length} instead.",
                    "string_above_max_length");
            }
            pairs[property.Name] = text;
        }
        if (pairs.Count > MaxPairs)
        {
            throw Invalid(at,
                $"too many properties. Expected an object with at most {MaxPairs} properties, but got an object with {pairs.Count} properties instead.",
                "object_above_max_properties");
        }
        return pairs;
    }
}
