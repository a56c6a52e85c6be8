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
            CheckKeyLength(property.Name, path, at);
            pairs[property.Name] = CheckPair(property.Name, String(property.Value, path), path);
        }
        CheckCount(pairs.Count, at);
        return pairs;
    }

    /// <summary>
    /// The same rules for pairs that are already text (the dashboard's metadata form), without a JSON round trip;
    /// the keys must differ.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Check(IEnumerable<KeyValuePair<string, string>> given, string at)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, text) in given)
        {
            var path = Path(at, key);
            CheckKeyLength(key, path, at);
            pairs.Add(key, CheckPair(key, text, path));
        }
        CheckCount(pairs.Count, at);
        return pairs;
    }

    private static void CheckKeyLength(string key, string path, string at)
    {
        if (key.Length > MaxKeyLength)
        {
            throw OpenAIException.InvalidRequest(path,
                $"Invalid '{at}': key too long. Expected keys with maximum length {MaxKeyLength}, but got a key with length {key.Length} instead.",
                "string_above_max_length");
        }
    }

    private static string CheckPair(string key, string text, string path)
    {
        // Stored in text columns (PostgreSQL's cannot hold U+0000) and matched by list filters.
        JsonBody.RefuseNul(key, path);
        JsonBody.RefuseNul(text, path);
        if (text.Length > MaxValueLength)
        {
            throw Invalid(path,
                $"string too long. Expected a string with maximum length {MaxValueLength}, but got a string with length {text.Length} instead.",
                "string_above_max_length");
        }
        return text;
    }

    private static void CheckCount(int count, string at)
    {
        if (count > MaxPairs)
        {
            throw Invalid(at,
                $"too many properties. Expected an object with at most {MaxPairs} properties, but got an object with {count} properties instead.",
                "object_above_max_properties");
        }
    }
}
