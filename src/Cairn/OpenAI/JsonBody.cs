using System.Text;
using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>
/// The one way a client's JSON is read (request bodies of every endpoint, import lines): the same depth limit,
/// duplicate keys refused, and every string and key checked to be Unicode text, so that no byte sequence a client
/// sends can fail later when a string is read or stored. Failures are OpenAI-style 400s naming the path.
/// </summary>
internal static class JsonBody
{
    /// <summary>How deeply a client's JSON may nest (the root object is level 1).</summary>
    public const int MaxDepth = 128;

    /// <summary>
    /// The depth every reader of stored JSON allows: a stored object, message item or export line holds a request's
    /// values at most a few levels deeper than the request did, so whatever <see cref="MaxDepth"/> let in reads back.
    /// </summary>
    public const int StoredMaxDepth = MaxDepth + 16;

    /// <summary>Options for reading JSON Cairn stored itself (see <see cref="StoredMaxDepth"/>).</summary>
    public static readonly JsonDocumentOptions Stored = new() { MaxDepth = StoredMaxDepth };

    /// <summary>OpenAI's words for a body it cannot parse.</summary>
    public const string Unparseable =
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
        "The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, " +
        "please contact us through our help center at help.openai.com.)";

    public const string InvalidJsonCode = "invalid_json";

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Parses <paramref name="body"/> (a leading UTF-8 byte order mark is skipped) or throws an
    /// <see cref="OpenAIException"/> saying what is wrong and where.
    /// </summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return Read(body, MaxDepth);
        }
        catch (BadJsonException e)
        {
            throw OpenAIException.InvalidRequest(e.Param, e.Param is null ? $"{Unparseable} ({e.Message})" : e.Message, InvalidJsonCode);
        }
    }

    /// <summary>As <see cref="Parse"/>, failing with a <see cref="BadJsonException"/> (for callers outside HTTP, such as import).</summary>
    public static JsonDocument Read(ReadOnlyMemory<byte> body, int maxDepth)
    {
        if (body.Span.StartsWith(Bom))
        {
            body = body[Bom.Length..];
        }
        Check(body.Span, maxDepth);
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            // The walk above found the text well formed, so what the document refused is a repeated key.
            throw DuplicateKeys.Find(body.Span, maxDepth) is { } path
                ? new BadJsonException(path, $"Invalid '{path}': the key appears more than once in the same object. Send each key once.")
                : new BadJsonException(null, e.Message);
        }
    }

    /// <summary>Walks every token: the reader checks the syntax and depth; every string and key is decoded once.</summary>
    private static void Check(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        var path = new JsonPathTracker();
        char[]? chars = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        path.Push(reader.TokenType == JsonTokenType.StartArray);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        path.Name((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                        CheckText(ref reader, ref chars, json, path, isKey: true);
                        break;
                    case JsonTokenType.String:
                        path.Value();
                        CheckText(ref reader, ref chars, json, path, isKey: false);
                        break;
                    default:
                        path.Value();
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw new BadJsonException(null, e.Message);
        }
        finally
        {
            JsonText.Return(chars);
        }
    }

    private static void CheckText(ref Utf8JsonReader reader, ref char[]? chars, ReadOnlySpan<byte> json, JsonPathTracker path, bool isKey)
    {
        var problem = JsonText.Check(ref reader, ref chars) switch
        {
            JsonText.Problem.InvalidUtf8 => "is not valid UTF-8. Send the body as JSON encoded in UTF-8",
            JsonText.Problem.LoneSurrogate => "holds a lone surrogate escape (such as \\ud800 without its low half), which is not Unicode text. Escape a character outside the BMP as a high and low surrogate pair",
            _ => null,
        };
        if (problem is null)
        {
            return;
        }
        if (isKey)
        {
            var parent = path.ToString(json, includeLast: false);
            throw new BadJsonException(parent.Length == 0 ? null : parent,
                $"Invalid {(parent.Length == 0 ? "key in the request body" : $"key in '{parent}'")}: a key {problem}.");
        }
        var at = path.ToString(json, includeLast: true);
        throw new BadJsonException(at.Length == 0 ? null : at,
            $"Invalid {(at.Length == 0 ? "request body" : $"'{at}'")}: the string {problem}.");
    }

    /// <summary>Fails when <paramref name="value"/> holds U+0000, which PostgreSQL's text and jsonb cannot store.</summary>
    public static void RefuseNul(string value, string path)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw OpenAIException.InvalidRequest(path,
                $"Invalid '{path}': the string holds the character U+0000 (NUL), which this field cannot store.", "invalid_value");
        }
    }

    /// <summary>Decodes a span of JSON string bytes for a path in an error message, whatever it holds.</summary>
    internal static string Lossy(ReadOnlySpan<byte> json, int start, int length)
    {
        var quoted = json.Slice(start - 1, length + 2);
        var reader = new Utf8JsonReader(quoted);
        try
        {
            reader.Read();
            return reader.GetString() ?? "";
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException)
        {
            return Encoding.UTF8.GetString(json.Slice(start, length));
        }
    }
}
