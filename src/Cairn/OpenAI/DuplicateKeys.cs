using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>
/// Finds the first key that appears twice in one object, for the error that names it. Run only on a body the
/// parser already refused, so its cost (every key of an object held as a string) is paid only for bad bodies.
/// </summary>
internal static class DuplicateKeys
{
    public static string? Find(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        var path = new JsonPathTracker();
        var keys = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        path.Push(isArray: false);
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.StartArray:
                        path.Push(isArray: true);
                        break;
                    case JsonTokenType.EndObject:
                        path.Pop();
                        keys.Pop();
                        break;
                    case JsonTokenType.EndArray:
                        path.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        path.Name((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                        if (!keys.Peek().Add(reader.GetString()!))
                        {
                            return path.ToString(json, includeLast: true);
                        }
                        break;
                    default:
                        path.Value();
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
        return null;
    }
}
