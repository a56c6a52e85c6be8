using System.Text.Json;
using Cairn.Storage;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.Export;

/// <summary>
/// One stored response read back from a raw export line (see <see cref="ResponseRawLine"/>), checked as a whole:
/// every item must have what reading a chain back as chat messages needs, so a response continued after the import
/// is answered, not refused. <see cref="Response"/> is the row to store, its project still to be resolved from
/// <see cref="Project"/>.
/// </summary>
internal sealed record ResponseImportLine(string Project, StoredResponse Response) : IImportLine
{
    private static readonly string[] Statuses = ["completed", "incomplete", "failed"];

    public string Id => Response.Id;

    /// <summary>The response it continues, which must be stored (in the same project) before it.</summary>
    public string? PreviousResponseId => Response.PreviousResponseId;

    /// <summary>Parses a line read by <see cref="RawFields.Read"/>; <paramref name="line"/> is its text.</summary>
    public static ResponseImportLine Parse(JsonElement root, ReadOnlySpan<byte> line, string? project)
    {
        var id = RawFields.Id(root);
        if (Get(root, "created_at") is not { ValueKind: JsonValueKind.Number } created || !created.TryGetInt64(out var createdAt))
        {
            throw new FormatException("'created_at' must be a whole number of seconds.");
        }
        var status = Get(root, "status") is { ValueKind: JsonValueKind.String } s && Statuses.Contains(s.GetString()) ? s.GetString()!
            : throw new FormatException($"'status' must be one of {string.Join(", ", Statuses.Select(x => $"\"{x}\""))}.");
        if (Get(root, "output") is not { ValueKind: JsonValueKind.Array } output)
        {
            throw new FormatException("'output' must be an array.");
        }
        var (inputTokens, outputTokens) = Usage(root);
        var metadata = RawFields.Metadata(root);
        var export = RawFields.Export(root, "the input items");
        var model = RawFields.Model(root, export);
        var projectName = RawFields.Project(export, project);
        var previous = OptionalId(export, "previous_response_id");
        var requestId = Get(export, "request_id") switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } r => r.GetString(),
            _ => throw new FormatException($"'{RawLine.Key}.request_id' must be a string or null."),
        };
        var response = new StoredResponse(0, id, model, createdAt, previous, RawFields.StoredObject(line),
            Items(export, "input", $"{RawLine.Key}.input"), Items(root, "output", "output"), metadata)
        {
            RequestId = requestId,
            Status = status,
            InputTokens = inputTokens,
            OutputTokens = outputTokens,
            Context = Items(export, "context", $"{RawLine.Key}.context"),
        };
        return new ResponseImportLine(projectName, response);
    }

    /// <summary>The stored row in project <paramref name="projectId"/>.</summary>
    public StoredResponse In(long projectId) => Response with { ProjectId = projectId };

    private static (int Input, int Output) Usage(JsonElement root)
    {
        if (Get(root, "usage") is not { } usage)
        {
            return (0, 0);
        }
        int Tokens(string name) =>
            usage.ValueKind == JsonValueKind.Object && Get(usage, name) is { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out var count) && count >= 0
                ? count
                : throw new FormatException($"'usage.{name}' must be a whole number of tokens.");
        return (Tokens("input_tokens"), Tokens("output_tokens"));
    }

    /// <summary>An optional id (a response's or an item's): a non-empty string without U+0000 (PostgreSQL text cannot hold it), or null.</summary>
    private static string? OptionalId(JsonElement obj, string name, string? at = null)
    {
        at ??= $"{RawLine.Key}.{name}";
        return Get(obj, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } value when value.GetString() is { Length: > 0 } text && !text.Contains('\0', StringComparison.Ordinal) => text,
            _ => throw new FormatException($"'{at}' must be a non-empty string without U+0000."),
        };
    }

    private static StoredItem[] Items(JsonElement obj, string name, string at)
    {
        if (Get(obj, name) is not { ValueKind: JsonValueKind.Array } items)
        {
            throw new FormatException($"'{at}' must be an array.");
        }
        var stored = new StoredItem[items.GetArrayLength()];
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var itemAt = $"{at}[{index}]";
            Check(item, itemAt);
            // The item's own bytes, so input_items answers exactly what it answered where it was exported.
            stored[index++] = new StoredItem(OptionalId(item, "id", $"{itemAt}.id")!, RawFields.Bytes(item));
        }
        return stored;
    }

    /// <summary>
    /// An item in its stored shape with what a chain's reading needs of its type (a message's role and content, a
    /// function call's call id, name and arguments, an output's call id and output); other types need only an id.
    /// </summary>
    private static void Check(JsonElement item, string at)
    {
        if (item.ValueKind != JsonValueKind.Object || Get(item, "type") is not { ValueKind: JsonValueKind.String } type || OptionalId(item, "id", $"{at}.id") is null)
        {
            throw new FormatException($"'{at}' must be an item object with an 'id' and a 'type'.");
        }
        switch (type.GetString())
        {
            case "message":
                RequireText(item, "role", at);
                if (Get(item, "content") is not { ValueKind: JsonValueKind.String })
                {
                    Parts(item, "content", at);
                }
                break;
            case "function_call":
                RequireText(item, "call_id", at);
                RequireText(item, "name", at);
                RequireText(item, "arguments", at);
                break;
            case "function_call_output":
                RequireText(item, "call_id", at);
                if (Get(item, "output") is not { ValueKind: JsonValueKind.String })
                {
                    Parts(item, "output", at);
                }
                break;
        }
    }

    private static void RequireText(JsonElement obj, string name, string at)
    {
        if (Get(obj, name) is not { ValueKind: JsonValueKind.String })
        {
            throw new FormatException($"'{at}.{name}' must be a string.");
        }
    }

    private static void TextOrNull(JsonElement obj, string at, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (Get(obj, name) is { ValueKind: not JsonValueKind.String })
            {
                throw new FormatException($"'{at}.{name}' must be a string or null.");
            }
        }
    }

    /// <summary>A string or an array of parts, each with a <c>type</c>, and the text its type carries.</summary>
    private static void Parts(JsonElement item, string name, string at)
    {
        if (Get(item, name) is not { ValueKind: JsonValueKind.Array } parts)
        {
            throw new FormatException($"'{at}.{name}' must be a string or an array of parts.");
        }
        var index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var partAt = $"{at}.{name}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object || Get(part, "type") is not { ValueKind: JsonValueKind.String } type)
            {
                throw new FormatException($"'{partAt}' must be a part object with a 'type'.");
            }
            switch (type.GetString())
            {
                case "input_text" or "output_text":
                    RequireText(part, "text", partAt);
                    break;
                case "refusal":
                    RequireText(part, "refusal", partAt);
                    break;
                case "input_image":
                    TextOrNull(part, partAt, "image_url", "detail");
                    break;
                case "input_file":
                    TextOrNull(part, partAt, "file_data", "file_id", "filename");
                    break;
            }
        }
    }
}
