using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Export;

/// <summary>What raw export lines of either kind (<see cref="ImportLine"/>, <see cref="ResponseImportLine"/>) are read and checked by alike.</summary>
internal static class RawFields
{
    public const int MaxIdLength = 256;

    /// <summary>
    /// Reads a line as a request body is read (encoding, duplicate keys), with room for the depth export adds around
    /// a stored object; a line that is not a JSON object throws <see cref="FormatException"/>.
    /// </summary>
    public static JsonDocument Read(ReadOnlySpan<byte> line)
    {
        JsonDocument document;
        try
        {
            document = JsonBody.Read(line.ToArray(), JsonBody.StoredMaxDepth);
        }
        catch (BadJsonException e)
        {
            throw new FormatException($"not valid JSON ({e.Message})");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new FormatException("a line must be a JSON object (a stored chat.completion or response).");
        }
        return document;
    }

    /// <summary>The stored object's <c>id</c>: 1 to <see cref="MaxIdLength"/> characters without spaces or control characters.</summary>
    public static string Id(JsonElement root)
    {
        var id = JsonCheck.Get(root, "id") is { ValueKind: JsonValueKind.String } i ? i.GetString()! : throw new FormatException("'id' must be a string.");
        return id.Length is 0 or > MaxIdLength || id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            ? throw new FormatException($"'id' must be 1 to {MaxIdLength} characters without spaces or control characters.")
            : id;
    }

    /// <summary>The stored object's <c>metadata</c>, checked as a request's.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(JsonElement root)
    {
        try
        {
            return new Dictionary<string, string>(MetadataParser.Parse(JsonCheck.Get(root, "metadata"), "metadata"), StringComparer.Ordinal);
        }
        catch (OpenAIException e)
        {
            throw new FormatException(e.Error.Message);
        }
    }

    /// <summary>The <c>cairn_export</c> object of its version; <paramref name="carries"/> says what it holds that the stored object does not.</summary>
    public static JsonElement Export(JsonElement root, string carries)
    {
        if (JsonCheck.Get(root, RawLine.Key) is not { ValueKind: JsonValueKind.Object } export)
        {
            throw new FormatException($"no '{RawLine.Key}' object: import reads lines of 'cairn export --format raw', which carry {carries} there.");
        }
        if (JsonCheck.Get(export, "version") is not { ValueKind: JsonValueKind.Number } version || !version.TryGetInt32(out var v) || v != RawLine.Version)
        {
            throw new FormatException($"'{RawLine.Key}.version' must be {RawLine.Version}.");
        }
        return export;
    }

    /// <summary>The model name lists filter on: the export's, else the stored object's.</summary>
    public static string Model(JsonElement root, JsonElement export) =>
        JsonCheck.Get(export, "model") is { ValueKind: JsonValueKind.String } m ? m.GetString()!
            : JsonCheck.Get(root, "model") is { ValueKind: JsonValueKind.String } bodyModel ? bodyModel.GetString()!
            : throw new FormatException("'model' must be a string.");

    /// <summary><paramref name="project"/> when the import names one, else the line's project, checked as a project name.</summary>
    public static string Project(JsonElement export, string? project)
    {
        if (project is not null)
        {
            return project;
        }
        var name = JsonCheck.Get(export, "project") is { ValueKind: JsonValueKind.String } p
            ? p.GetString()!
            : throw new FormatException($"'{RawLine.Key}.project' must be a string (or give --project).");
        try
        {
            Cairn.Access.AccessService.CheckProjectName(name, $"{RawLine.Key}.project");
        }
        catch (OpenAIException e)
        {
            throw new FormatException(e.Error.Message);
        }
        return name;
    }

    /// <summary>An element's own bytes as the line has them (escapes and all).</summary>
    public static byte[] Bytes(JsonElement element) => System.Text.Encoding.UTF8.GetBytes(element.GetRawText());

    /// <summary>
    /// The stored object: the line's own bytes for every top-level property but <c>cairn_export</c>, so that GET
    /// answers byte for byte what it answered where the line was exported.
    /// </summary>
    public static byte[] StoredObject(ReadOnlySpan<byte> line)
    {
        var body = new ArrayBufferWriter<byte>(line.Length);
        body.Write("{"u8);
        var reader = new Utf8JsonReader(line);
        reader.Read();
        var first = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var skip = reader.ValueTextEquals(RawLine.Key);
            reader.Read();
            reader.Skip();
            if (!skip)
            {
                if (!first)
                {
                    body.Write(","u8);
                }
                body.Write(line[start..(int)reader.BytesConsumed]);
                first = false;
            }
        }
        body.Write("}"u8);
        return body.WrittenSpan.ToArray();
    }
}
