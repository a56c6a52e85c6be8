using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>One completion read back from a raw export line (see <see cref="RawLine"/>), checked as a whole.</summary>
internal sealed record ImportLine(string Id, string Project, string Model, long Created, byte[] Body, IReadOnlyDictionary<string, string> Metadata, byte[][] Messages)
{
    public const int MaxIdLength = 256;

    /// <summary>The dashboard's view of the completion, made from the typed line (so storing it parses nothing again).</summary>
    public required CompletionSummary Summary { get; init; }

    /// <summary>Parses a line; a line that is not a complete raw export line throws <see cref="FormatException"/> saying why.</summary>
    public static ImportLine Parse(ReadOnlySpan<byte> line, string? project)
    {
        if (line.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            line = line[3..];
        }
        JsonDocument document;
        try
        {
            // Read as a request body is (encoding, duplicate keys), with room for the depth export adds around a completion.
            document = JsonBody.Read(line.ToArray(), JsonBody.StoredMaxDepth);
        }
        catch (BadJsonException e)
        {
            throw new FormatException($"not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("a line must be a JSON object (a stored chat.completion).");
            }
            if (JsonCheck.Get(root, "object") is not { ValueKind: JsonValueKind.String } kind || !kind.ValueEquals("chat.completion"u8))
            {
                throw new FormatException("'object' must be \"chat.completion\".");
            }
            var id = JsonCheck.Get(root, "id") is { ValueKind: JsonValueKind.String } i ? i.GetString()! : throw new FormatException("'id' must be a string.");
            if (id.Length is 0 or > MaxIdLength || id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                throw new FormatException($"'id' must be 1 to {MaxIdLength} characters without spaces or control characters.");
            }
            if (JsonCheck.Get(root, "created") is not { ValueKind: JsonValueKind.Number } created || !created.TryGetInt64(out var seconds))
            {
                throw new FormatException("'created' must be a whole number of seconds.");
            }
            if (JsonCheck.Get(root, "choices") is not { ValueKind: JsonValueKind.Array })
            {
                throw new FormatException("'choices' must be an array.");
            }
            IReadOnlyDictionary<string, string> metadata;
            try
            {
                metadata = new Dictionary<string, string>(MetadataParser.Parse(JsonCheck.Get(root, "metadata"), "metadata"), StringComparer.Ordinal);
            }
            catch (OpenAIException e)
            {
                throw new FormatException(e.Error.Message);
            }
            if (JsonCheck.Get(root, RawLine.Key) is not { ValueKind: JsonValueKind.Object } export)
            {
                throw new FormatException($"no '{RawLine.Key}' object: import reads lines of 'cairn export --format raw', which carry the input messages there.");
            }
            if (JsonCheck.Get(export, "version") is not { ValueKind: JsonValueKind.Number } version || !version.TryGetInt32(out var v) || v != RawLine.Version)
            {
                throw new FormatException($"'{RawLine.Key}.version' must be {RawLine.Version}.");
            }
            var model = JsonCheck.Get(export, "model") is { ValueKind: JsonValueKind.String } m ? m.GetString()!
                : JsonCheck.Get(root, "model") is { ValueKind: JsonValueKind.String } bodyModel ? bodyModel.GetString()!
                : throw new FormatException("'model' must be a string.");
            var projectName = project
                ?? (JsonCheck.Get(export, "project") is { ValueKind: JsonValueKind.String } p ? p.GetString()! : throw new FormatException($"'{RawLine.Key}.project' must be a string (or give --project)."));
            if (project is null)
            {
                try
                {
                    Cairn.Access.AccessService.CheckProjectName(projectName, $"{RawLine.Key}.project");
                }
                catch (OpenAIException e)
                {
                    throw new FormatException(e.Error.Message);
                }
            }
            if (JsonCheck.Get(export, "messages") is not { ValueKind: JsonValueKind.Array } items)
            {
                throw new FormatException($"'{RawLine.Key}.messages' must be an array.");
            }
            var messages = new byte[items.GetArrayLength()][];
            var input = new (string Role, string? Text)[messages.Length];
            var index = 0;
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || JsonCheck.Get(item, "role") is not { ValueKind: JsonValueKind.String })
                {
                    throw new FormatException($"'{RawLine.Key}.messages[{index}]' must be a message object with a 'role'.");
                }
                input[index] = (item.GetProperty("role").GetString()!, JsonCheck.Get(item, "content") is { ValueKind: JsonValueKind.String } text ? text.GetString() : null);
                // The item's own bytes, so /messages answers exactly what it answered where it was exported.
                messages[index++] = System.Text.Encoding.UTF8.GetBytes(item.GetRawText());
            }
            ChatCompletion completion;
            try
            {
                // Everything Cairn stores fits the one stored shape; a line that does not was not written by an export.
                completion = root.Deserialize(CairnJson.Default.ChatCompletion)!;
            }
            catch (JsonException e)
            {
                throw new FormatException($"'{e.Path?.TrimStart('$', '.')}' does not have the type a stored chat.completion gives it.");
            }
            return new ImportLine(id, projectName, model, seconds, StoredObject(line), metadata, messages)
            {
                Summary = CompletionSummary.Of(completion, input),
            };
        }
    }

    /// <summary>
    /// The stored object: the line's own bytes for every top-level property but <c>cairn_export</c>, so that GET
    /// answers byte for byte what it answered where the line was exported.
    /// </summary>
    private static byte[] StoredObject(ReadOnlySpan<byte> line)
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
