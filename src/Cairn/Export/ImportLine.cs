using System.Text.Json;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>One completion read back from a raw export line (see <see cref="RawLine"/>), checked as a whole.</summary>
internal sealed record ImportLine(string Id, string Project, string Model, long Created, byte[] Body, IReadOnlyDictionary<string, string> Metadata, byte[][] Messages) : IImportLine
{
    /// <summary>The dashboard's view of the completion, made from the typed line (so storing it parses nothing again).</summary>
    public required CompletionSummary Summary { get; init; }

    /// <summary>Parses a line; a line that is not a complete raw export line throws <see cref="FormatException"/> saying why.</summary>
    public static ImportLine Parse(ReadOnlySpan<byte> line, string? project)
    {
        if (line.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            line = line[3..];
        }
        using var document = RawFields.Read(line);
        return Parse(document.RootElement, line, project);
    }

    /// <summary>Parses a line read by <see cref="RawFields.Read"/>; <paramref name="line"/> is its text.</summary>
    public static ImportLine Parse(JsonElement root, ReadOnlySpan<byte> line, string? project)
    {
        if (JsonCheck.Get(root, "object") is not { ValueKind: JsonValueKind.String } kind || !kind.ValueEquals("chat.completion"u8))
        {
            throw new FormatException("'object' must be \"chat.completion\" or \"response\".");
        }
        var id = RawFields.Id(root);
        if (JsonCheck.Get(root, "created") is not { ValueKind: JsonValueKind.Number } created || !created.TryGetInt64(out var seconds))
        {
            throw new FormatException("'created' must be a whole number of seconds.");
        }
        if (JsonCheck.Get(root, "choices") is not { ValueKind: JsonValueKind.Array })
        {
            throw new FormatException("'choices' must be an array.");
        }
        var metadata = RawFields.Metadata(root);
        var export = RawFields.Export(root, "the input messages");
        var model = RawFields.Model(root, export);
        var projectName = RawFields.Project(export, project);
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
            messages[index++] = RawFields.Bytes(item);
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
        return new ImportLine(id, projectName, model, seconds, RawFields.StoredObject(line), metadata, messages)
        {
            Summary = CompletionSummary.Of(completion, input),
        };
    }
}
